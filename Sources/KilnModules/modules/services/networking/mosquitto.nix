# services.mosquitto (NixOS: nixos/modules/services/networking/mosquitto.nix), with Debian's
# mosquitto. /etc/mosquitto/mosquitto.conf is written in the place of Debian's, with
# per_listener_settings on, as NixOS does: each listener has its own users, password file and
# ACL file. Password files are made before every start, in dataDir, from the users' passwords
# (hashed there by mosquitto_passwd) and hashes; plain passwords are readable in /etc, as they
# are in NixOS's store.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep concatMap filter isBool;
  cfg = config.services.mosquitto;

  valueType = types.oneOf [ types.bool types.int types.str ];
  valueText = v: if isBool v then (if v then "true" else "false") else toString v;
  settingLines = s: map (k: "${k} ${valueText s.${k}}") (filter (k: s.${k} != null) (attrNames s));
  settingsOption = description: mkOption { type = types.attrsOf (types.nullOr valueType); default = { }; inherit description; };

  userOptions = {
    options = {
      password = mkOption { type = types.nullOr types.str; default = null; description = "The user's password, in the clear (hashed on the machine at start)."; };
      passwordFile = mkOption { type = types.nullOr types.str; default = null; description = "A file on the machine holding the user's password."; };
      hashedPassword = mkOption { type = types.nullOr types.str; default = null; description = "The user's password as mosquitto_passwd hashes it."; };
      hashedPasswordFile = mkOption { type = types.nullOr types.str; default = null; description = "A file on the machine holding that hash."; };
      acl = mkOption { type = types.listOf types.str; default = [ ]; example = [ "read A/B" "readwrite A/#" ]; description = "The user's topic rules (`topic` lines of the ACL file, without the word topic)."; };
    };
  };

  authPluginOptions = {
    options = {
      plugin = mkOption { type = types.str; description = "The plugin's shared object."; };
      denySpecialChars = mkOption { type = types.bool; default = true; description = "Whether client ids and user names with + # / are refused."; };
      options = settingsOption "The plugin's options (auth_opt_NAME).";
    };
  };

  listenerOptions = {
    options = {
      port = mkOption { type = types.port; default = 1883; description = "The port (0: a Unix socket, given as address)."; };
      address = mkOption { type = types.nullOr types.str; default = null; description = "The address or socket path it listens on; null: every address."; };
      users = mkOption { type = types.attrsOf (types.submodule userOptions); default = { }; description = "The users who may log in on this listener."; };
      omitPasswordAuth = mkOption { type = types.bool; default = false; description = "Whether this listener has no password file (for plugin or certificate logins)."; };
      acl = mkOption { type = types.listOf types.str; default = [ ]; example = [ "pattern read #" "topic readwrite anon/#" ]; description = "ACL file lines that come before the users' (patterns, anonymous rules)."; };
      authPlugins = mkOption { type = types.listOf (types.submodule authPluginOptions); default = [ ]; description = "Authentication plugins of this listener."; };
      settings = settingsOption "More settings of the listener (mosquitto.conf(5)), e.g. allow_anonymous.";
    };
  };

  bridgeOptions = {
    options = {
      addresses = mkOption {
        type = types.listOf (types.submodule { options = {
          address = mkOption { type = types.str; description = "The remote broker's address."; };
          port = mkOption { type = types.port; default = 1883; description = "The remote broker's port."; };
        }; });
        description = "The remote brokers, tried in turn.";
      };
      topics = mkOption { type = types.listOf types.str; default = [ ]; example = [ "# both 2 local/topic/ remote/topic/" ]; description = "`topic` lines of the bridge."; };
      settings = settingsOption "More settings of the bridge.";
    };
  };

  passwdPath = i: "${cfg.dataDir}/passwd-${toString i}";
  aclPath = i: "/etc/mosquitto/acl-${toString i}.conf";
  aclText = l: concatStringsSep "\n" (l.acl ++ concatMap (n: [ "user ${n}" ] ++ map (t: "topic ${t}") l.users.${n}.acl) (attrNames l.users)) + "\n";

  # Plain passwords are hashed in place by mosquitto_passwd -U before the hashes are added,
  # since -U would hash a hash again.
  passwdScript = i: l:
    let
      users = field: filter (n: l.users.${n}.${field} != null) (attrNames l.users);
      line = field: n: "printf '%s:%s\\n' ${lib.escapeShellArg n} ${lib.escapeShellArg l.users.${n}.${field}} >> \"$file\"";
      fromFile = field: n: "printf '%s:%s\\n' ${lib.escapeShellArg n} \"$(head -n 1 ${lib.escapeShellArg l.users.${n}.${field}})\" >> \"$file\"";
      plain = map (line "password") (users "password") ++ map (fromFile "passwordFile") (users "passwordFile");
    in ''
      file=${passwdPath i}
      rm -f "$file"
      touch "$file"
    '' + concatStringsSep "\n" (plain
      ++ lib.optional (plain != [ ]) "/usr/bin/mosquitto_passwd -U \"$file\""
      ++ map (line "hashedPassword") (users "hashedPassword") ++ map (fromFile "hashedPasswordFile") (users "hashedPasswordFile")) + "\n";

  listenerLines = i: l:
    [ "listener ${toString l.port}${lib.optionalString (l.address != null) " ${l.address}"}" "acl_file ${aclPath i}" ]
    ++ lib.optional (!l.omitPasswordAuth) "password_file ${passwdPath i}"
    ++ settingLines l.settings
    ++ concatMap (p: [ "auth_plugin ${p.plugin}" "auth_plugin_deny_special_chars ${valueText p.denySpecialChars}" ]
      ++ map (k: "auth_opt_${k} ${valueText p.options.${k}}") (attrNames p.options)) l.authPlugins;

  bridgeLines = name: b:
    [ "connection ${name}" "addresses ${concatStringsSep " " (map (a: "${a.address}:${toString a.port}") b.addresses)}" ]
    ++ map (t: "topic ${t}") b.topics ++ settingLines b.settings;

  configText = concatStringsSep "\n" ([
    "# Generated by Kiln from services.mosquitto."
    "per_listener_settings true"
    "persistence ${valueText cfg.persistence}"
  ] ++ map (d: if lib.hasPrefix "/" d then "log_dest file ${d}" else "log_dest ${d}") cfg.logDest
    ++ map (t: "log_type ${t}") cfg.logType
    ++ settingLines cfg.settings
    ++ concatLists (lib.imap0 listenerLines cfg.listeners)
    ++ concatMap (n: bridgeLines n cfg.bridges.${n}) (attrNames cfg.bridges)
    ++ map (d: "include_dir ${d}") cfg.includeDirs) + "\n";
  concatLists = builtins.concatLists;
in
{
  options.services.mosquitto = {
    enable = lib.mkEnableOption "the Mosquitto MQTT broker";
    package = mkOption { type = types.package; default = pkgs.mosquitto; defaultText = lib.literalExpression "pkgs.mosquitto"; description = "The Mosquitto package."; };
    listeners = mkOption { type = types.listOf (types.submodule listenerOptions); default = [ ]; description = "Where clients connect, each with its users and rules."; };
    bridges = mkOption { type = types.attrsOf (types.submodule bridgeOptions); default = { }; description = "Connections to other brokers, by name."; };
    includeDirs = mkOption { type = types.listOf types.str; default = [ ]; description = "Directories of more configuration files (include_dir)."; };
    logDest = mkOption {
      type = types.listOf types.str;
      default = [ "stderr" ];
      description = "Where the log goes: stdout, stderr, syslog, topic, dlt, or a file's absolute path.";
    };
    logType = mkOption {
      type = types.listOf (types.enum [ "debug" "error" "warning" "notice" "information" "subscribe" "unsubscribe" "websockets" "none" "all" ]);
      default = [ ];
      description = "What is logged.";
    };
    persistence = mkOption { type = types.bool; default = true; description = "Whether messages and subscriptions are saved in dataDir across restarts."; };
    dataDir = mkOption { type = types.str; default = "/var/lib/mosquitto"; description = "The broker's working directory: its database and password files."; };
    settings = settingsOption "More global settings (mosquitto.conf(5)).";
  };

  config = lib.mkIf cfg.enable {
    assertions = concatLists (lib.imap0 (i: l: map (n: {
      assertion = lib.count (f: l.users.${n}.${f} != null) [ "password" "passwordFile" "hashedPassword" "hashedPasswordFile" ] <= 1;
      message = "services.mosquitto.listeners.${toString i}.users.${n}: set at most one of password, passwordFile, hashedPassword and hashedPasswordFile.";
    }) (attrNames l.users)) cfg.listeners);

    # NixOS's mosquitto package carries the clients too; Debian ships them apart.
    environment.systemPackages = [ cfg.package pkgs.mosquitto-clients ];
    users.users.mosquitto = { isSystemUser = true; group = "mosquitto"; description = "Mosquitto MQTT broker"; };
    users.groups.mosquitto = { };
    environment.etc = {
      "mosquitto/mosquitto.conf".text = configText;
    } // lib.listToAttrs (lib.imap0 (i: l: lib.nameValuePair "mosquitto/acl-${toString i}.conf" { text = aclText l; }) cfg.listeners);
    systemd.tmpfiles.rules = [ "d ${cfg.dataDir} 0700 mosquitto mosquitto -" ];

    systemd.services.mosquitto = {
      description = "Mosquitto MQTT Broker";
      documentation = [ "man:mosquitto.conf(5)" "man:mosquitto(8)" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      restartTriggers = [ configText (map aclText cfg.listeners) ];
      preStart = concatStringsSep "" (lib.imap0 (i: l: lib.optionalString (!l.omitPasswordAuth) (passwdScript i l)) cfg.listeners);
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        User = "mosquitto";
        Group = "mosquitto";
        RuntimeDirectory = "mosquitto";
        WorkingDirectory = cfg.dataDir;
        UMask = "0077";
        ExecStart = "/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf";
        ExecReload = "/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        NoNewPrivileges = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectHome = true;
        ProtectSystem = "full";
        ProtectKernelModules = true;
        ProtectControlGroups = true;
      };
    };
  };
}
