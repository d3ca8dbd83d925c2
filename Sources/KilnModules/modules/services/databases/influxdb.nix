# services.influxdb (NixOS: nixos/modules/services/databases/influxdb.nix), with Debian's
# influxdb (InfluxDB 1.6). NixOS's defaults merged with extraConfig (recursively) are written
# as TOML to /etc/influxdb/influxdb.conf, in the place of Debian's, and influxd runs with it
# as influxdb; the start waits until /ping answers, as NixOS's postStart does, so units
# ordered after influxdb.service can write at once.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.influxdb;

  configOptions = lib.recursiveUpdate {
    meta = {
      bind-address = ":8088";
      commit-timeout = "50ms";
      dir = "${cfg.dataDir}/meta";
      election-timeout = "1s";
      heartbeat-timeout = "1s";
      hostname = "localhost";
      leader-lease-timeout = "500ms";
      retention-autocreate = true;
    };
    data = {
      dir = "${cfg.dataDir}/data";
      wal-dir = "${cfg.dataDir}/wal";
      max-wal-size = 104857600;
      wal-enable-logging = true;
      wal-flush-interval = "10m";
      wal-partition-flush-delay = "2s";
    };
    cluster = { shard-writer-timeout = "5s"; write-timeout = "5s"; };
    retention = { enabled = true; check-interval = "30m"; };
    http = {
      enabled = true;
      auth-enabled = false;
      bind-address = ":8086";
      https-enabled = false;
      log-enabled = true;
      pprof-enabled = false;
      write-tracing = false;
    };
    monitor = { store-enabled = false; store-database = "_internal"; store-interval = "10s"; };
    admin = { enabled = true; bind-address = ":8083"; https-enabled = false; };
    graphite = [ { enabled = false; } ];
    udp = [ { enabled = false; } ];
    # Debian's collectd types.db (collectd-core), read only when the listener is enabled.
    collectd = [ { enabled = false; typesdb = "/usr/share/collectd/types.db"; database = "collectd_db"; bind-address = ":25826"; } ];
    opentsdb = [ { enabled = false; } ];
    continuous_queries = {
      enabled = true;
      log-enabled = true;
      recompute-previous-n = 2;
      recompute-no-older-than = "10m";
      compute-runs-per-interval = 10;
      compute-no-more-than = "2m";
    };
    hinted-handoff = {
      enabled = true;
      dir = "${cfg.dataDir}/hh";
      max-size = 1073741824;
      max-age = "168h";
      retry-rate-limit = 0;
      retry-interval = "1s";
    };
  } cfg.extraConfig;

  configText = lib.generators.toTOML { } configOptions;
  # NixOS's postStart: "host:port" from the bind address, localhost when only a port.
  bindAddr = let ba = toString configOptions.http.bind-address; in
    if lib.hasPrefix ":" ba then "127.0.0.1${ba}" else ba;
  scheme = if configOptions.http.https-enabled then "-k https" else "http";
in
{
  options.services.influxdb = {
    enable = mkOption { type = types.bool; default = false; description = "Whether to enable the InfluxDB server."; };
    package = mkOption {
      type = types.package;
      default = pkgs.influxdb;
      defaultText = lib.literalExpression "pkgs.influxdb";
      description = "The InfluxDB package (Debian's influxdb is InfluxDB 1.6).";
    };
    user = mkOption { type = types.str; default = "influxdb"; description = "User account under which influxdb runs."; };
    group = mkOption { type = types.str; default = "influxdb"; description = "Group under which influxdb runs."; };
    dataDir = mkOption { type = types.path; default = "/var/db/influxdb"; description = "Data directory for influxd data files."; };
    extraConfig = mkOption {
      type = types.attrs;
      default = { };
      example = { http.auth-enabled = true; monitor.store-enabled = true; };
      description = "Settings merged over NixOS's defaults (recursively) into influxdb.conf.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    environment.etc."influxdb/influxdb.conf".text = configText;

    systemd.tmpfiles.rules = [ "d '${cfg.dataDir}' 0770 ${cfg.user} ${cfg.group} - -" ];

    systemd.services.influxdb = {
      description = "InfluxDB Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      restartTriggers = [ configText ];
      path = [ pkgs.curl ]; # the postStart's
      serviceConfig = {
        ExecStart = "/usr/bin/influxd -config /etc/influxdb/influxdb.conf";
        User = cfg.user;
        Group = cfg.group;
        Restart = "on-failure";
      };
      postStart = lib.mkBefore ''
        until /usr/bin/curl -s -o /dev/null ${scheme}://${bindAddr}/ping; do
          sleep 1
        done
      '';
    };

    users.users = lib.optionalAttrs (cfg.user == "influxdb") {
      influxdb = { isSystemUser = true; group = "influxdb"; description = "Influxdb daemon user"; };
    };
    users.groups = lib.optionalAttrs (cfg.group == "influxdb") { influxdb = { }; };
  };
}
