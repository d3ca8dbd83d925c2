# services.syncthing (NixOS: nixos/modules/services/networking/syncthing.nix): Debian's
# syncthing as a system service, with NixOS's way of applying `settings`: Syncthing keeps its
# own config.xml, and syncthing-init.service, once Syncthing answers, posts each declared
# device and folder to its REST API (with the API key read from config.xml), deletes the ones
# not declared (overrideDevices, overrideFolders), puts the other sections, and restarts
# Syncthing when a change needs it. cert and key, when given, are copied in before each
# start, so the machine's device ID is known in advance.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.syncthing;
  json = types.attrsOf types.anything;
  isUnixGui = builtins.substring 0 1 cfg.guiAddress == "/";
  api = path: if isUnixGui then "--unix-socket ${cfg.guiAddress} http://.${path}" else "${cfg.guiAddress}${path}";

  # Null and empty settings are left out, innermost first (NixOS: converge filterAttrsRecursive).
  clean = v: if builtins.isAttrs v
    then lib.filterAttrs (_: x: x != null && x != { }) (builtins.mapAttrs (_: clean) v)
    else v;
  cleaned = clean cfg.settings;

  devices = lib.mapAttrsToList (_: d: d // { deviceID = d.id; }) cfg.settings.devices;
  folders = lib.mapAttrsToList (_: f: builtins.removeAttrs f [ "enable" ] // {
    devices = map (d: if builtins.isString d then { deviceId = (cfg.settings.devices.${d} or { id = d; }).id; } else d) f.devices;
  }) (lib.filterAttrs (_: f: f.enable) cfg.settings.folders);

  apply = kind: { conf, ids, idName, override }: lib.concatMapStrings (c: ''
    curl -d ${lib.escapeShellArg (builtins.toJSON c)} -X POST ${api "/rest/config/${kind}"}
  '') conf + lib.optionalString override ''
    stale=$(curl -X GET ${api "/rest/config/${kind}"} | jq --argjson new_ids ${lib.escapeShellArg (builtins.toJSON ids)} -r '[.[].${idName}] - $new_ids | .[]')
    for id in $stale; do
      curl -X DELETE ${api "/rest/config/${kind}"}/$id
    done
  '';

  initScript = ''
    set -efu
    # Secrets stay out of the file system's other readers and out of process listings.
    umask 0077
    curl() {
      while ! xmllint --xpath 'string(configuration/gui/apikey)' ${cfg.configDir}/config.xml > "$RUNTIME_DIRECTORY/api_key"; do
        sleep 1
      done
      (printf "X-API-Key: "; cat "$RUNTIME_DIRECTORY/api_key") > "$RUNTIME_DIRECTORY/headers"
      command curl -sSLk -H "@$RUNTIME_DIRECTORY/headers" --retry 1000 --retry-delay 1 --retry-all-errors "$@"
    }
  '' + apply "devices" { conf = devices; ids = map (d: d.id) devices; idName = "deviceID"; override = cfg.overrideDevices; }
    + apply "folders" { conf = folders; ids = map (f: f.id) folders; idName = "id"; override = cfg.overrideFolders; }
    + lib.concatMapStrings (section: ''
      curl -X PUT -d ${lib.escapeShellArg (builtins.toJSON cleaned.${section})} ${api "/rest/config/${section}"}
    '') (lib.subtractLists [ "folders" "devices" ] (builtins.attrNames cleaned))
    + ''
      if curl ${api "/rest/config/restart-required"} | jq -e .requiresRestart > /dev/null; then
        curl -X POST ${api "/rest/system/restart"}
      fi
    '';

  optionalSetting = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };
in
{
  options.services.syncthing = {
    enable = lib.mkEnableOption "Syncthing, continuous file synchronisation between machines";
    package = mkOption { type = types.package; default = pkgs.syncthing; defaultText = lib.literalExpression "pkgs.syncthing"; description = "The Syncthing package."; };
    cert = mkOption { type = types.nullOr types.str; default = null; description = "A cert.pem copied into configDir before each start (it fixes the device ID)."; };
    key = mkOption { type = types.nullOr types.str; default = null; description = "A key.pem copied into configDir before each start."; };
    overrideDevices = mkOption { type = types.bool; default = true; description = "Whether devices not in settings.devices (added in the web interface) are deleted."; };
    overrideFolders = mkOption { type = types.bool; default = true; description = "Whether folders not in settings.folders (added in the web interface) are deleted."; };
    settings = mkOption {
      default = { };
      example = { options.localAnnounceEnabled = false; gui.theme = "black"; };
      description = "Syncthing's configuration in the REST API's JSON shape (see docs.syncthing.net/users/config.html), applied by syncthing-init.service.";
      type = types.submodule {
        freeformType = json;
        options = {
          options = mkOption {
            default = { };
            description = "Global options.";
            type = types.submodule {
              freeformType = json;
              options = {
                localAnnounceEnabled = optionalSetting types.bool "Whether the device announces itself on the LAN and listens for others.";
                localAnnouncePort = optionalSetting types.int "The port of LAN announcements.";
                relaysEnabled = optionalSetting types.bool "Whether relays may carry connections.";
                urAccepted = optionalSetting types.int "Usage reporting: -1 declines, a version above 0 accepts.";
                limitBandwidthInLan = optionalSetting types.bool "Whether bandwidth limits apply on the LAN too.";
                maxFolderConcurrency = optionalSetting types.int "How many folders may scan or sync at once.";
              };
            };
          };
          devices = mkOption {
            default = { };
            description = "The peers Syncthing talks to.";
            example = { bigbox = { id = "7CFNTQM-IMTJBHJ-3UWRDIU-ZGQJFR6-VCXZ3NB-XUH3KZO-N52ITXR-LAIYUAU"; addresses = [ "tcp://192.168.0.10:51820" ]; }; };
            type = types.attrsOf (types.submodule ({ name, ... }: {
              freeformType = json;
              options = {
                name = mkOption { type = types.str; default = name; description = "The device's name."; };
                id = mkOption { type = types.str; description = "The device ID."; };
                autoAcceptFolders = mkOption { type = types.bool; default = false; description = "Whether folders this device shares are accepted by themselves."; };
              };
            }));
          };
          folders = mkOption {
            default = { };
            description = "The folders shared, by path.";
            example = lib.literalExpression ''{ "/home/user/sync" = { id = "syncme"; devices = [ "bigbox" ]; }; }'';
            type = types.attrsOf (types.submodule ({ name, ... }: {
              freeformType = json;
              options = {
                enable = mkOption { type = types.bool; default = true; description = "Whether this machine shares the folder."; };
                path = mkOption {
                  type = types.addCheck types.str (x: builtins.substring 0 1 x == "/" || builtins.substring 0 2 x == "~/");
                  default = name;
                  description = "The folder's path: absolute, or starting with ~/ (the user's home).";
                };
                id = mkOption { type = types.str; default = name; description = "The folder's ID, the same on every device."; };
                label = mkOption { type = types.str; default = name; description = "The folder's label."; };
                type = mkOption { type = types.enum [ "sendreceive" "sendonly" "receiveonly" "receiveencrypted" ]; default = "sendreceive"; description = "Which way changes go."; };
                devices = mkOption { type = types.listOf (types.either types.str json); default = [ ]; description = "The devices (names of settings.devices) the folder is shared with."; };
                versioning = mkOption {
                  default = null;
                  description = "How changed and deleted files are kept (simple, trashcan, staggered, external).";
                  type = types.nullOr (types.submodule {
                    freeformType = json;
                    options.type = mkOption { type = types.enum [ "external" "simple" "staggered" "trashcan" ]; description = "The kind of versioning."; };
                  });
                };
                copyOwnershipFromParent = mkOption { type = types.bool; default = false; description = "Whether new files take the owner of their directory."; };
              };
            }));
          };
        };
      };
    };
    guiAddress = mkOption { type = types.str; default = "127.0.0.1:8384"; description = "Where the web interface (and the REST API) listens: host:port, or a socket path."; };
    systemService = mkOption { type = types.bool; default = true; description = "Whether Syncthing runs as a system service."; };
    user = mkOption { type = types.str; default = "syncthing"; example = "yourUser"; description = "The account Syncthing runs as (syncthing is made, with dataDir as home)."; };
    group = mkOption { type = types.str; default = "syncthing"; description = "The group Syncthing runs as."; };
    all_proxy = mkOption { type = types.nullOr types.str; default = null; example = "socks5://address.com:1234"; description = "A proxy for Syncthing's connections (all_proxy)."; };
    dataDir = mkOption { type = types.path; default = "/var/lib/syncthing"; example = "/home/yourUser"; description = "Where synchronised folders are by default."; };
    configDir = mkOption { type = types.path; default = cfg.dataDir + "/.config/syncthing"; defaultText = lib.literalExpression ''config.services.syncthing.dataDir + "/.config/syncthing"''; description = "Where the settings and keys are."; };
    databaseDir = mkOption { type = types.path; default = cfg.configDir; defaultText = lib.literalExpression "config.services.syncthing.configDir"; description = "Where the database and logs are."; };
    extraFlags = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--reset-deltas" ]; description = "More arguments of syncthing."; };
    openDefaultPorts = mkOption { type = types.bool; default = false; description = "Whether the firewall opens TCP and UDP 22000 (transfers) and UDP 21027 (discovery)."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = lib.mapAttrsToList (path: f: {
      assertion = lib.all (d: !(builtins.isString d) || cfg.settings.devices ? ${d}) f.devices;
      message = "services.syncthing.settings.folders.\"${path}\".devices: ${lib.concatStringsSep ", " (builtins.filter (d: builtins.isString d && !(cfg.settings.devices ? ${d})) f.devices)} is not a device of services.syncthing.settings.devices.";
    }) cfg.settings.folders;
    environment.systemPackages = [ cfg.package ];
    networking.firewall = lib.mkIf cfg.openDefaultPorts { allowedTCPPorts = [ 22000 ]; allowedUDPPorts = [ 21027 22000 ]; };
    users.users = lib.mkIf (cfg.systemService && cfg.user == "syncthing") {
      syncthing = { isSystemUser = true; group = cfg.group; home = cfg.dataDir; createHome = true; description = "Syncthing daemon user"; };
    };
    users.groups = lib.mkIf (cfg.systemService && cfg.group == "syncthing") { syncthing = { }; };

    systemd.services.syncthing = lib.mkIf cfg.systemService {
      description = "Syncthing service";
      after = [ "network.target" ];
      wantedBy = [ "multi-user.target" ];
      environment = { STNORESTART = "yes"; STNOUPGRADE = "yes"; } // lib.optionalAttrs (cfg.all_proxy != null) { inherit (cfg) all_proxy; };
      serviceConfig = {
        Restart = "on-failure";
        SuccessExitStatus = "3 4";
        RestartForceExitStatus = "3 4";
        User = cfg.user;
        Group = cfg.group;
        ExecStartPre = lib.optional (cfg.cert != null || cfg.key != null) ("+/bin/sh -c '"
          + "install -dm700 -o ${cfg.user} -g ${cfg.group} ${cfg.configDir}"
          + lib.optionalString (cfg.cert != null) " && install -Dm400 -o ${cfg.user} -g ${cfg.group} ${cfg.cert} ${cfg.configDir}/cert.pem"
          + lib.optionalString (cfg.key != null) " && install -Dm400 -o ${cfg.user} -g ${cfg.group} ${cfg.key} ${cfg.configDir}/key.pem"
          + "'");
        ExecStart = "/usr/bin/syncthing serve --no-browser --gui-address=${if isUnixGui then "unix://" else ""}${cfg.guiAddress} --config=${cfg.configDir} --data=${cfg.databaseDir} ${lib.escapeShellArgs cfg.extraFlags}";
        MemoryDenyWriteExecute = true;
        NoNewPrivileges = true;
        PrivateDevices = true;
        PrivateMounts = true;
        PrivateTmp = true;
        PrivateUsers = true;
        ProtectControlGroups = true;
        ProtectHostname = true;
        ProtectKernelModules = true;
        ProtectKernelTunables = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        CapabilityBoundingSet = [ "~CAP_SYS_PTRACE" "~CAP_SYS_ADMIN" "~CAP_SETGID" "~CAP_SETUID" "~CAP_SETPCAP" "~CAP_SYS_TIME" "~CAP_KILL" ];
      };
    };
    systemd.services.syncthing-init = lib.mkIf (cleaned != { }) {
      description = "Syncthing configuration updater";
      requisite = [ "syncthing.service" ];
      after = [ "syncthing.service" ];
      wantedBy = [ "multi-user.target" ];
      path = [ pkgs.curl pkgs.jq pkgs.libxml2-utils pkgs.coreutils ];
      script = initScript;
      serviceConfig = {
        User = cfg.user;
        RemainAfterExit = true;
        RuntimeDirectory = "syncthing-init";
        Type = "oneshot";
      };
    };
  };
}
