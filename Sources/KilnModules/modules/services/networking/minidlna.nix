# services.minidlna (NixOS: nixos/modules/services/networking/minidlna.nix), with Debian's
# minidlna. The settings are written as NixOS's keyValue format writes them (a list is one
# line per element) to /etc/minidlna.conf, in the place of Debian's, and minidlnad runs in
# the foreground mode NixOS uses (-S, -P: its pid file).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.minidlna;

  atom = types.oneOf [ types.bool types.int types.float types.str types.path ];
  valueText = v: if builtins.isBool v then (if v then "yes" else "no") else toString v;
  # pkgs.formats.keyValue { listsAsDuplicateKeys = true; }: NAME=VALUE, lists repeat NAME.
  configText = lib.concatStrings (lib.concatMap (n:
    let v = cfg.settings.${n}; in
    map (x: "${n}=${valueText x}\n") (if builtins.isList v then v else [ v ])
  ) (builtins.attrNames cfg.settings));
in
{
  options.services.minidlna = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable MiniDLNA, a DLNA server for the televisions and media players of the LAN.";
    };
    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open the HTTP port (TCP, settings.port) and SSDP (UDP 1900) in the firewall.";
    };
    settings = mkOption {
      default = { };
      description = "minidlna.conf's settings (minidlna.conf(5)); a list gives one line per element.";
      type = types.submodule {
        freeformType = types.attrsOf (types.either atom (types.listOf atom));
        options = {
          media_dir = mkOption {
            type = types.listOf types.str;
            default = [ ];
            example = [ "/data/media" "V,/home/alice/video" ];
            description = "Directories scanned for media; an A, V or P prefix keeps a directory to audio, video or pictures. The minidlna user must be able to read them.";
          };
          notify_interval = mkOption { type = types.int; default = 90000; description = "Seconds between SSDP announcements."; };
          port = mkOption { type = types.port; default = 8200; description = "The port of HTTP (descriptions, SOAP, media)."; };
          db_dir = mkOption { type = types.str; default = "/var/cache/minidlna"; description = "Where the database and album art cache are kept."; };
          friendly_name = mkOption {
            type = types.str;
            default = config.networking.hostName;
            defaultText = lib.literalExpression "config.networking.hostName";
            description = "The name clients show for the server.";
          };
          root_container = mkOption { type = types.str; default = "B"; example = "."; description = "The container clients see as the root (B: browse directory)."; };
          log_level = mkOption { type = types.str; default = "warn"; description = "What is logged, and down to which level."; };
          inotify = mkOption { type = types.enum [ "yes" "no" ]; default = "no"; description = "Whether new files are found through inotify."; };
          enable_tivo = mkOption { type = types.enum [ "yes" "no" ]; default = "no"; description = "Whether TiVo's HMO is served."; };
          wide_links = mkOption { type = types.enum [ "yes" "no" ]; default = "no"; description = "Whether symbolic links may point outside media_dir."; };
        };
      };
    };
  };

  imports = [
    (lib.mkRenamedOptionModule [ "services" "minidlna" "loglevel" ] [ "services" "minidlna" "settings" "log_level" ])
    (lib.mkRenamedOptionModule [ "services" "minidlna" "rootContainer" ] [ "services" "minidlna" "settings" "root_container" ])
    (lib.mkRenamedOptionModule [ "services" "minidlna" "mediaDirs" ] [ "services" "minidlna" "settings" "media_dir" ])
    (lib.mkRenamedOptionModule [ "services" "minidlna" "friendlyName" ] [ "services" "minidlna" "settings" "friendly_name" ])
    (lib.mkRenamedOptionModule [ "services" "minidlna" "announceInterval" ] [ "services" "minidlna" "settings" "notify_interval" ])
  ];

  config = lib.mkIf cfg.enable {
    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ cfg.settings.port ];
    networking.firewall.allowedUDPPorts = lib.mkIf cfg.openFirewall [ 1900 ];

    environment.systemPackages = [ pkgs.minidlna ];
    environment.etc."minidlna.conf".text = configText;

    users.users.minidlna = { isSystemUser = true; group = "minidlna"; description = "MiniDLNA daemon user"; };
    users.groups.minidlna = { };

    systemd.services.minidlna = {
      description = "MiniDLNA Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      restartTriggers = [ configText ];
      serviceConfig = {
        User = "minidlna";
        Group = "minidlna";
        CacheDirectory = "minidlna";
        RuntimeDirectory = "minidlna";
        # Debian's minidlnad opens /var/log/minidlna/minidlna.log even with -S (NixOS's
        # build logs to the journal then): the directory it wants, owned by minidlna.
        LogsDirectory = "minidlna";
        PIDFile = "/run/minidlna/pid";
        ExecStart = "/usr/sbin/minidlnad -S -P /run/minidlna/pid -f /etc/minidlna.conf";
      };
    };
  };
}
