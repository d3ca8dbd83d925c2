# services.transmission (NixOS: nixos/modules/services/torrent/transmission.nix), with
# Debian's transmission-daemon (3.00, NixOS's default transmission_3). As in NixOS, the
# settings are JSON that every start merges with credentialsFile (jq --slurp add) into
# HOME/.config/transmission-daemon/settings.json, and the daemon runs in the foreground as
# Type=notify. NixOS confines it in an empty RootDirectory with bind mounts; here it gets
# ProtectSystem=strict with the directories it writes, which keeps the same paths.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.transmission;
  settingsDir = ".config/transmission-daemon";
  settingsText = builtins.toJSON cfg.settings;
  sh = lib.escapeShellArg;
  dirs = [ cfg.settings.download-dir ]
    ++ lib.optional cfg.settings.incomplete-dir-enabled cfg.settings.incomplete-dir
    ++ lib.optional cfg.settings.watch-dir-enabled cfg.settings.watch-dir;
  # Run as root ("+"): credentialsFile may be readable by root alone.
  prestart = "#!/bin/sh\nset -eu\n" + lib.concatMapStrings (l: l + "\n") ([
    "install -d -m 750 -o ${sh cfg.user} -g ${sh cfg.group} ${sh cfg.home}"
    "install -d -m 700 -o ${sh cfg.user} -g ${sh cfg.group} ${sh "${cfg.home}/${settingsDir}"}"
  ] ++ map (d: "install -d -m ${if cfg.downloadDirPermissions != null then cfg.downloadDirPermissions else "755"} -o ${sh cfg.user} -g ${sh cfg.group} ${sh d}") dirs
    ++ [ "/usr/bin/jq --slurp add /etc/transmission/settings.json ${sh cfg.credentialsFile} | install -D -m 600 -o ${sh cfg.user} -g ${sh cfg.group} /dev/stdin ${sh "${cfg.home}/${settingsDir}/settings.json"}" ]);
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "services" "transmission" "port" ] [ "services" "transmission" "settings" "rpc-port" ])
    (lib.mkAliasOptionModule [ "services" "transmission" "openFirewall" ] [ "services" "transmission" "openPeerPorts" ])
  ];

  options.services.transmission = {
    enable = lib.mkEnableOption "the headless Transmission BitTorrent daemon (RPC and web interface on 127.0.0.1:9091 by default)";
    settings = mkOption {
      default = { };
      description = "Settings that overwrite the fields of HOME/.config/transmission-daemon/settings.json at every start (Transmission's Editing-Configuration-Files).";
      type = types.submodule {
        freeformType = types.attrsOf types.anything;
        options = {
          download-dir = mkOption { type = types.str; default = "${cfg.home}/Downloads"; defaultText = lib.literalExpression ''"''${config.services.transmission.home}/Downloads"''; description = "Where torrents are downloaded."; };
          incomplete-dir = mkOption { type = types.str; default = "${cfg.home}/.incomplete"; defaultText = lib.literalExpression ''"''${config.services.transmission.home}/.incomplete"''; description = "Where unfinished torrents are kept when incomplete-dir-enabled."; };
          incomplete-dir-enabled = mkOption { type = types.bool; default = true; description = "Whether unfinished torrents are kept in incomplete-dir."; };
          message-level = mkOption { type = types.ints.between 0 6; default = 2; description = "How much Transmission logs."; };
          peer-port = mkOption { type = types.port; default = 51413; description = "The port peers connect to."; };
          peer-port-random-high = mkOption { type = types.port; default = 65535; description = "The highest peer port when peer-port-random-on-start."; };
          peer-port-random-low = mkOption { type = types.port; default = 65535; description = "The lowest peer port when peer-port-random-on-start."; };
          peer-port-random-on-start = mkOption { type = types.bool; default = false; description = "Whether the peer port is chosen at random at each start."; };
          rpc-bind-address = mkOption { type = types.str; default = "127.0.0.1"; example = "0.0.0.0"; description = "Where the RPC interface listens (0.0.0.0: every interface)."; };
          rpc-port = mkOption { type = types.port; default = 9091; description = "The RPC port."; };
          script-torrent-done-enabled = mkOption { type = types.bool; default = false; description = "Whether script-torrent-done-filename runs when a torrent completes."; };
          script-torrent-done-filename = mkOption { type = types.nullOr types.str; default = null; description = "The program run when a torrent completes."; };
          umask = mkOption { type = types.either types.int types.str; default = 18; description = "The file mode creation mask (Transmission 3: a base-10 integer, 18 = 022)."; };
          utp-enabled = mkOption { type = types.bool; default = true; description = "Whether µTP is used."; };
          watch-dir = mkOption { type = types.str; default = "${cfg.home}/watchdir"; defaultText = lib.literalExpression ''"''${config.services.transmission.home}/watchdir"''; description = "The directory watched for .torrent files."; };
          watch-dir-enabled = mkOption { type = types.bool; default = false; description = "Whether watch-dir is watched."; };
          trash-original-torrent-files = mkOption { type = types.bool; default = false; description = "Whether .torrent files added from watch-dir are deleted."; };
        };
      };
    };
    package = mkOption { type = types.package; default = pkgs.transmission-daemon; defaultText = lib.literalExpression "pkgs.transmission-daemon"; description = "The Transmission daemon's package (Debian's, Transmission 3)."; };
    downloadDirPermissions = mkOption { type = types.nullOr types.str; default = null; example = "770"; description = "The mode of download-dir, incomplete-dir and watch-dir (null: 755)."; };
    home = mkOption { type = types.str; default = "/var/lib/transmission"; description = "Where Transmission keeps .config/transmission-daemon, and Downloads and .incomplete unless they are moved."; };
    user = mkOption { type = types.str; default = "transmission"; description = "The user Transmission runs as."; };
    group = mkOption { type = types.str; default = "transmission"; description = "The group Transmission runs as."; };
    credentialsFile = mkOption { type = types.str; default = "/dev/null"; example = "/var/lib/secrets/transmission/settings.json"; description = "A JSON file on the machine merged over the settings at every start, for secrets such as rpc-password."; };
    extraFlags = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--log-debug" ]; description = "More arguments of transmission-daemon."; };
    openPeerPorts = lib.mkEnableOption "opening the peer port(s) in the firewall";
    openRPCPort = lib.mkEnableOption "opening the RPC port in the firewall";
    performanceNetParameters = lib.mkEnableOption "kernel settings for many more connections at once (aggressive: idle SSH sessions may time out sooner)";
    webHome = mkOption { type = types.nullOr types.str; default = null; description = "The web interface's files (TRANSMISSION_WEB_HOME); null: the package's."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package pkgs.jq ];
    environment.etc."transmission/settings.json".text = settingsText;
    environment.etc."transmission/prestart" = { text = prestart; mode = "0755"; };

    users.users = lib.optionalAttrs (cfg.user == "transmission") {
      transmission = { isSystemUser = true; group = cfg.group; home = cfg.home; description = "Transmission BitTorrent user"; };
    };
    users.groups = lib.optionalAttrs (cfg.group == "transmission") { transmission = { }; };

    systemd.services.transmission = {
      description = "Transmission BitTorrent Service";
      after = [ "network.target" ];
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ settingsText prestart ];
      environment = lib.optionalAttrs (cfg.webHome != null) { TRANSMISSION_WEB_HOME = cfg.webHome; };
      serviceConfig = {
        Type = "notify";
        ExecStartPre = [ "+/etc/transmission/prestart" ];
        ExecStart = "/usr/bin/transmission-daemon -f -g ${sh "${cfg.home}/${settingsDir}"} ${lib.escapeShellArgs cfg.extraFlags}";
        ExecReload = "/bin/kill -HUP $MAINPID";
        User = cfg.user;
        Group = cfg.group;
        UMask = "0066";
        # "-": the directories do not exist yet when the namespace of ExecStartPre (which
        # makes them) is set up.
        ReadWritePaths = map (d: "-" + d) ([ cfg.home ] ++ dirs);
        ProtectSystem = "strict";
        ProtectHome = "read-only";
        AmbientCapabilities = "";
        CapabilityBoundingSet = "";
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        NoNewPrivileges = true;
        PrivateDevices = true;
        PrivateTmp = true;
        ProtectClock = true;
        ProtectControlGroups = true;
        ProtectHostname = true;
        ProtectKernelLogs = true;
        ProtectKernelModules = true;
        ProtectKernelTunables = true;
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        SystemCallArchitectures = "native";
      };
    };

    networking.firewall = lib.mkMerge [
      (lib.mkIf cfg.openPeerPorts (if cfg.settings.peer-port-random-on-start then {
        allowedTCPPortRanges = [ { from = cfg.settings.peer-port-random-low; to = cfg.settings.peer-port-random-high; } ];
        allowedUDPPortRanges = [ { from = cfg.settings.peer-port-random-low; to = cfg.settings.peer-port-random-high; } ];
      } else {
        allowedTCPPorts = [ cfg.settings.peer-port ];
        allowedUDPPorts = [ cfg.settings.peer-port ];
      }))
      (lib.mkIf cfg.openRPCPort { allowedTCPPorts = [ cfg.settings.rpc-port ]; })
    ];

    boot.kernel.sysctl = lib.mkMerge [
      # One UDP socket carries every uTP connection, so it wants large buffers.
      (lib.mkIf cfg.settings.utp-enabled {
        "net.core.rmem_max" = lib.mkDefault 4194304;
        "net.core.wmem_max" = lib.mkDefault 1048576;
      })
      (lib.mkIf cfg.performanceNetParameters {
        "net.ipv4.ip_local_port_range" = lib.mkDefault "16384 65535";
        "net.netfilter.nf_conntrack_generic_timeout" = lib.mkDefault 60;
        "net.netfilter.nf_conntrack_tcp_timeout_established" = lib.mkDefault 600;
        "net.netfilter.nf_conntrack_tcp_timeout_time_wait" = lib.mkDefault 1;
        "net.netfilter.nf_conntrack_max" = lib.mkDefault 1048576;
      })
    ];
  };
}
