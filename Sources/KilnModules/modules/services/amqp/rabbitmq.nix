# services.rabbitmq (NixOS: nixos/modules/services/amqp/rabbitmq.nix), with Debian's
# rabbitmq-server (3.10). As in NixOS, the server runs as rabbitmq from its data folder with
# its files named in the environment: rabbitmq.conf made from configItems, advanced.config
# from `config`, the enabled plugins from `plugins`, found in the package's plugin folder and
# pluginDirs. Debian's rabbitmqctl (on the PATH) runs as rabbitmq when root calls it, so it
# shares the server's Erlang cookie.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.rabbitmq;
in
{
  options.services.rabbitmq = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable the RabbitMQ server, an Advanced Message Queuing Protocol (AMQP) broker.";
    };
    package = mkOption {
      type = types.package;
      default = pkgs.rabbitmq-server;
      defaultText = lib.literalExpression "pkgs.rabbitmq-server";
      description = "The RabbitMQ package (Debian's rabbitmq-server).";
    };
    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "";
      description = ''
        The address AMQP clients connect to; empty: every interface. RabbitMQ's user guest
        (password guest) may only log in from localhost. With `port`, the default of
        configItems."listeners.tcp.1".
      '';
    };
    port = mkOption {
      type = types.port;
      default = 5672;
      description = "The port AMQP clients connect to.";
    };
    dataDir = mkOption {
      type = types.path;
      default = "/var/lib/rabbitmq";
      description = "The server's data folder (its home, with the Erlang cookie; the Mnesia database below it).";
    };
    cookie = mkOption {
      type = types.str;
      default = "";
      description = "The Erlang cookie nodes of a cluster share; empty: the server makes one at its first start.";
    };
    configItems = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { "auth_backends.1.authn" = "rabbit_auth_backend_ldap"; "auth_backends.1.authz" = "rabbit_auth_backend_internal"; };
      description = "Settings of rabbitmq.conf, RabbitMQ's key = value format.";
    };
    config = mkOption {
      type = types.str;
      default = "";
      description = "advanced.config, in Erlang terms, for what rabbitmq.conf cannot say; merged with configItems by RabbitMQ.";
    };
    plugins = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "rabbitmq_shovel" ];
      description = "The plugins enabled.";
    };
    pluginDirs = mkOption {
      type = types.listOf types.path;
      default = [ ];
      description = "More folders of plugins, after the package's.";
    };
    managementPlugin = {
      enable = lib.mkEnableOption "the management plugin (its HTTP API and web interface)";
      port = mkOption {
        type = types.port;
        default = 15672;
        description = "The port of the management plugin's HTTP API and web interface (on listenAddress).";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    services.epmd.enable = true;

    users.users.rabbitmq = {
      description = "RabbitMQ server user";
      home = cfg.dataDir;
      createHome = true;
      group = "rabbitmq";
      isSystemUser = true;
    };
    users.groups.rabbitmq = { };

    services.rabbitmq.plugins = lib.optional cfg.managementPlugin.enable "rabbitmq_management";
    services.rabbitmq.configItems = {
      "listeners.tcp.1" = lib.mkDefault "${cfg.listenAddress}:${toString cfg.port}";
    } // lib.optionalAttrs cfg.managementPlugin.enable {
      "management.tcp.port" = toString cfg.managementPlugin.port;
      "management.tcp.ip" = if cfg.listenAddress == "" then "::" else cfg.listenAddress;
    };

    environment.etc."rabbitmq/rabbitmq.conf".text = lib.generators.toKeyValue { } cfg.configItems;
    environment.etc."rabbitmq/enabled_plugins".text = "[ ${lib.concatStringsSep "," cfg.plugins} ].\n";
    environment.etc."rabbitmq/advanced.config" = lib.mkIf (cfg.config != "") { text = cfg.config; };

    systemd.services.rabbitmq = {
      description = "RabbitMQ Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" "epmd.socket" ];
      wants = [ "network.target" "epmd.socket" ];
      path = [ cfg.package pkgs.procps ];
      environment = {
        RABBITMQ_MNESIA_BASE = "${cfg.dataDir}/mnesia";
        RABBITMQ_LOGS = "-";
        SYS_PREFIX = "";
        RABBITMQ_CONFIG_FILE = "/etc/rabbitmq/rabbitmq.conf";
        RABBITMQ_ENABLED_PLUGINS_FILE = "/etc/rabbitmq/enabled_plugins";
      } // lib.optionalAttrs (cfg.config != "") { RABBITMQ_ADVANCED_CONFIG_FILE = "/etc/rabbitmq/advanced.config"; };
      restartTriggers = [ (builtins.toJSON cfg.configItems) cfg.config (toString cfg.plugins) ];
      serviceConfig = {
        ExecStop = "/usr/lib/rabbitmq/bin/rabbitmqctl shutdown";
        User = "rabbitmq";
        Group = "rabbitmq";
        LogsDirectory = "rabbitmq";
        WorkingDirectory = cfg.dataDir;
        Type = "notify";
        NotifyAccess = "all";
        UMask = "0027";
        LimitNOFILE = "100000";
        Restart = "on-failure";
        RestartSec = "10";
        TimeoutStartSec = "3600";
      };
      # The package's plugins first: Debian names their folder for RabbitMQ's version.
      script = ''
        export RABBITMQ_PLUGINS_DIR="$(echo /usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins)"${lib.concatMapStrings (d: ":" + lib.escapeShellArg d) cfg.pluginDirs}
        exec /usr/lib/rabbitmq/bin/rabbitmq-server
      '';
      preStart = lib.optionalString (cfg.cookie != "") ''
        echo -n ${lib.escapeShellArg cfg.cookie} > ${cfg.dataDir}/.erlang.cookie
        chmod 600 ${cfg.dataDir}/.erlang.cookie
      '';
    };
  };
}
