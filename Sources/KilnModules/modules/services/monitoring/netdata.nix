# services.netdata (NixOS: nixos/modules/services/monitoring/netdata.nix), with Debian's
# netdata 1.37 (netdata-core, its web files and bash plugins; the python.d plugins with
# python.enable). netdata.conf is NixOS's: its settings over `config` (INI), or configText
# verbatim, in the place of Debian's /etc/netdata/netdata.conf. apps.plugin reads every
# process's /proc files: NixOS runs it from a wrapper holding the capabilities Debian's
# postinst would set (Kiln runs no maintainer scripts). Netdata runs the first plugin of a
# name it finds and looks for its helper scripts in the first plugins directory, so that
# directory is made at every start in /run/netdata/plugins.d: Debian's plugins and helpers,
# with the wrapper in the place of Debian's apps.plugin (which netdata may not execute).
# apps.plugin opens its configuration with O_NOFOLLOW, and a package's files are links into
# the store on Kiln, so the stock configuration folder is made there too, with a copy of
# apps_groups.conf.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.netdata;

  pluginsDir = "/run/netdata/plugins.d";
  stockDir = "/run/netdata/conf.d";
  plugins = [ pluginsDir ] ++ cfg.extraPluginPaths;
  localConfig = {
    global = {
      "config directory" = cfg.configDir;
      "stock config directory" = stockDir;
      "plugins directory" = lib.concatStringsSep " " plugins;
    };
    web = {
      "web files owner" = "root";
      "web files group" = "root";
    };
  };
  configText = if cfg.configText != null then cfg.configText
    else lib.generators.toINI { } (lib.recursiveUpdate localConfig cfg.config);
in
{
  options.services.netdata = {
    enable = mkOption { type = types.bool; default = false; description = "Whether to enable netdata, real-time performance monitoring with a web dashboard on port 19999."; };
    package = mkOption {
      type = types.package;
      default = pkgs.netdata;
      defaultText = lib.literalExpression "pkgs.netdata";
      description = "The netdata package (Debian's: netdata-core, netdata-web and the bash plugins).";
    };
    user = mkOption { type = types.str; default = "netdata"; description = "User account under which netdata runs."; };
    group = mkOption { type = types.str; default = "netdata"; description = "Group under which netdata runs."; };
    configText = mkOption {
      type = types.nullOr types.lines;
      default = null;
      example = "[global]\n\tdebug log = syslog\n";
      description = "Verbatim netdata.conf, cannot be combined with config. Without Kiln's plugins directory in it, netdata runs Debian's plugins, apps.plugin (which needs the wrapper) aside.";
    };
    config = mkOption {
      type = types.attrsOf types.attrs;
      default = { };
      example = { global = { "update every" = 2; }; ml = { enabled = "no"; }; };
      description = "netdata.conf as sections of settings (INI), over NixOS's own (plugins directory, web files owner). Cannot be combined with configText.";
    };
    configDir = mkOption {
      type = types.str;
      default = "/etc/netdata";
      description = "Where netdata reads the collectors' and alarms' configuration (Debian's stock files are in /usr/lib/netdata/conf.d).";
    };
    extraPluginPaths = mkOption {
      type = types.listOf types.path;
      default = [ ];
      example = [ "/path/to/plugins.d" ];
      description = "Extra folders of external plugins (netdata's global \"plugins directory\"). Cannot be combined with configText.";
    };
    enableAnalyticsReporting = mkOption {
      type = types.bool;
      default = false;
      description = "Whether netdata may send anonymous statistics. false sets DO_NOT_TRACK, as NixOS does; Debian's package also opts out with /etc/netdata/.opt-out-from-anonymous-statistics, which stays, so netdata sends none either way.";
    };
    python = {
      enable = mkOption { type = types.bool; default = true; description = "Whether to enable the python.d plugins (Debian's netdata-plugins-python)."; };
      extraPackages = mkOption {
        type = types.functionTo (types.listOf types.package);
        default = ps: [ ];
        defaultText = lib.literalExpression "ps: [ ]";
        example = lib.literalExpression "ps: [ ps.psycopg2 ps.dnspython ]";
        description = "Python modules the python.d collectors import (given pkgs.python3Packages).";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      { assertion = cfg.config != { } -> cfg.configText == null;
        message = "services.netdata: cannot specify both config and configText"; }
    ];

    environment.systemPackages = [ cfg.package ]
      ++ lib.optionals cfg.python.enable ([ pkgs.netdata-plugins-python ]
        ++ cfg.python.extraPackages pkgs.python3Packages);
    environment.etc."netdata/netdata.conf".text = configText;

    security.wrappers."apps.plugin" = {
      source = "/usr/lib/netdata/plugins.d/apps.plugin";
      capabilities = "cap_dac_read_search,cap_sys_ptrace+ep";
      owner = cfg.user;
      group = cfg.group;
      permissions = "u+rx,g+rx,o-rwx";
    };

    systemd.tmpfiles.rules = [
      "d /var/cache/netdata 0755 ${cfg.user} ${cfg.group} -"
      "Z /var/cache/netdata - ${cfg.user} ${cfg.group} -"
      "d /var/log/netdata 0755 ${cfg.user} ${cfg.group} -"
      "Z /var/log/netdata - ${cfg.user} ${cfg.group} -"
      "d /var/lib/netdata 0755 ${cfg.user} ${cfg.group} -"
      "Z /var/lib/netdata - ${cfg.user} ${cfg.group} -"
    ];

    systemd.services.netdata = {
      description = "Real time performance monitoring";
      after = [ "network.target" ];
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ configText ];
      path = [ pkgs.curl pkgs.gawk pkgs.debianutils ];
      environment = lib.optionalAttrs (!cfg.enableAnalyticsReporting) { DO_NOT_TRACK = "1"; };
      preStart = ''
        rm -rf ${pluginsDir}
        mkdir ${pluginsDir}
        ln -s /usr/lib/netdata/plugins.d/* ${pluginsDir}/
        ln -sfn ${config.security.wrapperDir}/apps.plugin ${pluginsDir}/apps.plugin
        rm -rf ${stockDir}
        mkdir ${stockDir}
        ln -s /usr/lib/netdata/conf.d/* ${stockDir}/
        rm ${stockDir}/apps_groups.conf
        cp /usr/lib/netdata/conf.d/apps_groups.conf ${stockDir}/
      '';
      serviceConfig = {
        ExecStart = "/usr/sbin/netdata -P /run/netdata/netdata.pid -D -c /etc/netdata/netdata.conf";
        ExecReload = "/bin/kill -s HUP -s USR1 -s USR2 $MAINPID";
        TimeoutStopSec = 60;
        User = cfg.user;
        Group = cfg.group;
        RuntimeDirectory = "netdata";
        RuntimeDirectoryMode = "0755";
        LimitNOFILE = "30000";
      };
    };

    users.users = lib.optionalAttrs (cfg.user == "netdata") {
      netdata = { isSystemUser = true; group = cfg.group; home = "/var/lib/netdata"; description = "netdata daemon user"; };
    };
    users.groups = lib.optionalAttrs (cfg.group == "netdata") { netdata = { }; };
  };
}
