# services.clamav (NixOS: nixos/modules/services/security/clamav.nix), with Debian's ClamAV:
# clamd (clamav-daemon), freshclam (clamav-freshclam) and a timed clamdscan over the
# scanned folders, as NixOS's units run them, with clamd.conf and freshclam.conf written from
# `settings`. Debian's postinst writes those two files from debconf; Kiln runs no maintainer
# scripts, so here they are NixOS's. clamd needs a signature database before it starts:
# freshclam fetches ClamAV's from its mirrors, or the machine's own signatures go into the
# database folder (/var/lib/clamav). fangfrisch (third-party signatures) is not in Debian 12.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.clamav;
  stateDir = "/var/lib/clamav";
  settingsType = with types; attrsOf (oneOf [ bool int str (listOf str) ]);
  # clamd.conf and freshclam.conf: "Key value" lines, a list as one line per item; ClamAV
  # reads yes/no for its Boolean settings.
  toConf = lib.generators.toKeyValue {
    mkKeyValue = lib.generators.mkKeyValueDefault {
      mkValueString = v: if v == true then "yes" else if v == false then "no" else toString v;
    } " ";
    listsAsDuplicateKeys = true;
  };
  clamdConf = toConf cfg.daemon.settings;
  freshclamConf = toConf cfg.updater.settings;
in
{
  options.services.clamav = {
    package = mkOption {
      type = types.package;
      default = pkgs.clamav;
      defaultText = lib.literalExpression "pkgs.clamav";
      description = "ClamAV's scanner package (Debian's clamav); clamd, clamdscan and freshclam come with it as their Debian packages.";
    };
    daemon = {
      enable = lib.mkEnableOption "the ClamAV clamd daemon";
      settings = mkOption {
        type = settingsType;
        default = { };
        example = { MaxFileSize = "100M"; ExcludePath = [ "^/proc/" "^/sys/" ]; };
        description = "clamd.conf settings (see clamd.conf(5)); a list is the key repeated.";
      };
    };
    updater = {
      enable = lib.mkEnableOption "the ClamAV freshclam updater";
      frequency = mkOption {
        type = types.int;
        default = 12;
        description = "Number of database checks per day.";
      };
      interval = mkOption {
        type = types.str;
        default = "hourly";
        description = "How often freshclam runs (a systemd calendar event, see systemd.time(7)).";
      };
      settings = mkOption {
        type = settingsType;
        default = { };
        description = "freshclam.conf settings (see freshclam.conf(5)); a list is the key repeated.";
      };
    };
    scanner = {
      enable = lib.mkEnableOption "the ClamAV scanner: clamdscan over scanDirectories at `interval`, through clamd";
      interval = mkOption {
        type = types.str;
        default = "*-*-* 04:00:00";
        description = "When clamdscan runs (a systemd calendar event, see systemd.time(7)).";
      };
      scanDirectories = mkOption {
        type = types.listOf types.str;
        default = [ "/home" "/var/lib" "/tmp" "/etc" "/var/tmp" ];
        description = "The folders scanned. The unit fails when clamdscan finds something; its journal names each file and signature.";
      };
    };
  };

  config = lib.mkIf (cfg.updater.enable || cfg.daemon.enable) {
    assertions = [ {
      assertion = cfg.scanner.enable -> cfg.daemon.enable;
      message = "services.clamav.scanner.enable: the scanner runs clamdscan, which needs clamd: set services.clamav.daemon.enable too.";
    } ];

    environment.systemPackages = [ cfg.package pkgs.clamav-daemon pkgs.clamdscan pkgs.clamav-freshclam ];

    users.users.clamav = {
      isSystemUser = true;
      group = "clamav";
      description = "ClamAV daemon user";
      home = stateDir;
    };
    users.groups.clamav = { };

    services.clamav.daemon.settings = {
      DatabaseDirectory = stateDir;
      LocalSocket = "/run/clamav/clamd.ctl";
      PidFile = "/run/clamav/clamd.pid";
      User = "clamav";
      Foreground = true;
    };
    services.clamav.updater.settings = {
      DatabaseDirectory = stateDir;
      Foreground = true;
      Checks = cfg.updater.frequency;
      DatabaseMirror = [ "database.clamav.net" ];
    };

    environment.etc."clamav/clamd.conf".text = clamdConf;
    environment.etc."clamav/freshclam.conf".text = freshclamConf;

    systemd.services.clamav-daemon = lib.mkIf cfg.daemon.enable {
      description = "ClamAV daemon (clamd)";
      after = lib.optional cfg.updater.enable "clamav-freshclam.service";
      wants = lib.optional cfg.updater.enable "clamav-freshclam.service";
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ clamdConf ];
      serviceConfig = {
        ExecStart = "/usr/sbin/clamd";
        ExecReload = "/bin/kill -USR2 $MAINPID";
        User = "clamav";
        Group = "clamav";
        StateDirectory = "clamav";
        RuntimeDirectory = "clamav";
        PrivateTmp = "yes";
        PrivateDevices = "yes";
        PrivateNetwork = "yes";
      };
    };

    systemd.timers.clamav-freshclam = lib.mkIf cfg.updater.enable {
      description = "Timer for ClamAV virus database updater (freshclam)";
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = cfg.updater.interval; Unit = "clamav-freshclam.service"; };
    };
    systemd.services.clamav-freshclam = lib.mkIf cfg.updater.enable {
      description = "ClamAV virus database updater (freshclam)";
      restartTriggers = [ freshclamConf ];
      requires = [ "network-online.target" ];
      after = [ "network-online.target" ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "/usr/bin/freshclam";
        SuccessExitStatus = "1"; # the databases were up to date
        StateDirectory = "clamav";
        User = "clamav";
        Group = "clamav";
        PrivateTmp = "yes";
        PrivateDevices = "yes";
      };
    };

    systemd.timers.clamdscan = lib.mkIf cfg.scanner.enable {
      description = "Timer for ClamAV virus scanner";
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = cfg.scanner.interval; Unit = "clamdscan.service"; };
    };
    systemd.services.clamdscan = lib.mkIf cfg.scanner.enable {
      description = "ClamAV virus scanner";
      after = lib.optional cfg.updater.enable "clamav-freshclam.service";
      wants = lib.optional cfg.updater.enable "clamav-freshclam.service";
      serviceConfig = {
        Type = "oneshot";
        # --fdpass: clamd, as clamav, reads what root opens for it (mailboxes, home folders).
        ExecStart = "/usr/bin/clamdscan --multiscan --fdpass --infected --allmatch ${lib.escapeShellArgs cfg.scanner.scanDirectories}";
      };
    };
  };
}
