# services.prometheus (NixOS: nixos/modules/services/monitoring/prometheus/default.nix), with
# Debian's prometheus. The configuration is /etc/prometheus/prometheus.yml (JSON, which is
# YAML), in the place of Debian's; unset (null) settings are left out, so Prometheus' own
# defaults apply, as in NixOS. NixOS checks the file with promtool when it builds the system;
# Kiln cannot run it at evaluation, so with checkConfig the unit runs it before every start
# (a bad file keeps the old server running on a switch, and shows in the unit's log).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) isAttrs isList;
  cfg = config.services.prometheus;
  workingDir = "/var/lib/${cfg.stateDir}";

  # Drops nulls and the module system's own attributes, at every depth, as NixOS's
  # filterValidPrometheus does.
  clean = v:
    if isAttrs v then lib.mapAttrs (_: clean) (lib.filterAttrs (n: x: n != "_module" && x != null) v)
    else if isList v then map clean v
    else v;

  opt = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };

  staticConfig = types.submodule {
    options = {
      targets = mkOption { type = types.listOf types.str; description = "The targets (host:port)."; };
      labels = opt (types.attrsOf types.str) "Labels given to every series scraped from these targets.";
    };
  };

  scrapeConfig = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      job_name = mkOption { type = types.str; description = "The job's name, the `job` label of its series."; };
      scrape_interval = opt types.str "How often this job is scraped (default: globalConfig's).";
      scrape_timeout = opt types.str "How long a scrape may take (default: globalConfig's).";
      metrics_path = opt types.str "The HTTP path of the metrics (Prometheus: /metrics).";
      scheme = opt (types.enum [ "http" "https" ]) "The URL scheme (Prometheus: http).";
      honor_labels = opt types.bool "Whether the scraped labels win over the server's.";
      static_configs = opt (types.listOf staticConfig) "Targets given by hand.";
    };
  };

  globalConfig = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      scrape_interval = opt types.str "How often targets are scraped (Prometheus: 1m).";
      scrape_timeout = opt types.str "How long a scrape may take (Prometheus: 10s).";
      evaluation_interval = opt types.str "How often rules are evaluated (Prometheus: 1m).";
      external_labels = opt (types.attrsOf types.str) "Labels added to series and alerts sent elsewhere.";
    };
  };

  ruleFileNames = lib.imap0 (i: f: "/etc/prometheus/rules.d/${toString i}-${baseNameOf (toString f)}") cfg.ruleFiles;
  promConfig = clean ({
    global = cfg.globalConfig;
    scrape_configs = cfg.scrapeConfigs;
    rule_files = ruleFileNames ++ lib.optional (cfg.rules != [ ]) "/etc/prometheus/rules.yml";
  } // lib.optionalAttrs (cfg.alertmanagers != [ ]) { alerting.alertmanagers = cfg.alertmanagers; });
  configText = if cfg.configText != null then cfg.configText else builtins.toJSON promConfig;

  cmdline = [
    "--config.file=/etc/prometheus/prometheus.yml"
    "--storage.tsdb.path=${workingDir}/data/"
    "--web.listen-address=${cfg.listenAddress}:${toString cfg.port}"
  ] ++ lib.optional (cfg.retentionTime != null) "--storage.tsdb.retention.time=${cfg.retentionTime}"
    ++ lib.optional (cfg.webExternalUrl != null) "--web.external-url=${cfg.webExternalUrl}"
    ++ cfg.extraFlags;
in
{
  options.services.prometheus = {
    enable = lib.mkEnableOption "the Prometheus monitoring server";
    package = mkOption { type = types.package; default = pkgs.prometheus; defaultText = lib.literalExpression "pkgs.prometheus"; description = "The Prometheus package."; };
    port = mkOption { type = types.port; default = 9090; description = "The port of the web interface and API."; };
    listenAddress = mkOption { type = types.str; default = "0.0.0.0"; description = "The address the web interface and API listen on."; };
    openFirewall = mkOption { type = types.bool; default = false; description = "Whether `port` is opened in networking.firewall."; };
    stateDir = mkOption { type = types.str; default = "prometheus2"; description = "The directory under /var/lib that holds the time series database."; };
    extraFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "More command-line flags of prometheus."; };
    retentionTime = mkOption { type = types.nullOr types.str; default = null; example = "15d"; description = "How long samples are kept (Prometheus: 15d)."; };
    webExternalUrl = mkOption { type = types.nullOr types.str; default = null; example = "https://example.org/prometheus/"; description = "The URL Prometheus is reached at, when behind a proxy."; };
    checkConfig = mkOption {
      type = types.either types.bool (types.enum [ "syntax-only" ]);
      default = true;
      description = "Whether promtool checks the configuration before prometheus starts (\"syntax-only\": without reading the files it names).";
    };
    configText = mkOption { type = types.nullOr types.lines; default = null; description = "The whole prometheus.yml, used instead of the options that make it."; };
    globalConfig = mkOption { type = globalConfig; default = { }; description = "The `global` section: defaults of every job."; };
    scrapeConfigs = mkOption {
      type = types.listOf scrapeConfig;
      default = [ ];
      example = [ { job_name = "node"; static_configs = [ { targets = [ "localhost:9100" ]; } ]; } ];
      description = "The jobs: what is scraped, and how.";
    };
    rules = mkOption { type = types.listOf types.str; default = [ ]; description = "Alerting and recording rules, as YAML text, together in one rule file."; };
    ruleFiles = mkOption { type = types.listOf types.path; default = [ ]; description = "More rule files."; };
    alertmanagers = mkOption { type = types.listOf (types.attrsOf types.anything); default = [ ]; description = "The `alerting.alertmanagers` section: where alerts are sent."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    users.users.prometheus = { isSystemUser = true; group = "prometheus"; description = "Prometheus daemon user"; };
    users.groups.prometheus = { };
    environment.etc = {
      "prometheus/prometheus.yml".text = configText;
      "prometheus/rules.yml" = lib.mkIf (cfg.rules != [ ]) { text = lib.concatStringsSep "\n" cfg.rules; };
    } // lib.listToAttrs (lib.zipListsWith (name: f: lib.nameValuePair (lib.removePrefix "/etc/" name) { source = f; }) ruleFileNames cfg.ruleFiles);
    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ cfg.port ];

    systemd.services.prometheus = {
      description = "Prometheus monitoring server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      restartTriggers = [ configText ];
      serviceConfig = {
        ExecStartPre = lib.mkIf (cfg.checkConfig != false)
          [ "/usr/bin/promtool check config ${lib.optionalString (cfg.checkConfig == "syntax-only") "--syntax-only "}/etc/prometheus/prometheus.yml" ];
        ExecStart = "/usr/bin/prometheus ${lib.concatStringsSep " " cmdline}";
        ExecReload = "/bin/kill -HUP $MAINPID";
        User = "prometheus";
        Restart = "always";
        RuntimeDirectory = "prometheus";
        RuntimeDirectoryMode = "0700";
        WorkingDirectory = workingDir;
        StateDirectory = cfg.stateDir;
        StateDirectoryMode = "0700";
        NoNewPrivileges = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectHome = true;
        ProtectSystem = "full";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectControlGroups = true;
        LockPersonality = true;
        RestrictRealtime = true;
        SystemCallArchitectures = "native";
      };
    };
  };
}
