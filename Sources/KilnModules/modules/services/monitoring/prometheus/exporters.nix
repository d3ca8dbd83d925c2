# services.prometheus.exporters (NixOS: nixos/modules/services/monitoring/prometheus/exporters.nix
# and exporters/node.nix): the node exporter, Debian's prometheus-node-exporter, as
# prometheus-node-exporter.service. NixOS runs exporters with DynamicUser; Kiln gives the
# exporter a fixed system account of the same name, which Debian's package would otherwise
# leave to its postinst.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.prometheus.exporters.node;
  flags = map (c: "--collector.${c}") cfg.enabledCollectors
    ++ map (c: "--no-collector.${c}") cfg.disabledCollectors
    ++ [ "--web.listen-address=${cfg.listenAddress}:${toString cfg.port}" ]
    ++ cfg.extraFlags;
in
{
  options.services.prometheus.exporters.node = {
    enable = lib.mkEnableOption "the Prometheus node exporter (the machine's metrics)";
    package = mkOption {
      type = types.package;
      default = pkgs.prometheus-node-exporter;
      defaultText = lib.literalExpression "pkgs.prometheus-node-exporter";
      description = "The node exporter package.";
    };
    port = mkOption { type = types.port; default = 9100; description = "The port the metrics are served on."; };
    listenAddress = mkOption { type = types.str; default = "0.0.0.0"; description = "The address the metrics are served on."; };
    openFirewall = mkOption { type = types.bool; default = false; description = "Whether `port` is opened in networking.firewall."; };
    firewallFilter = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "ip saddr 10.0.0.0/8 tcp dport 9100";
      description = "With openFirewall, the nftables match that is accepted instead of the whole port (NixOS: iptables arguments).";
    };
    user = mkOption { type = types.str; default = "node-exporter"; description = "The account the exporter runs as."; };
    group = mkOption { type = types.str; default = "node-exporter"; description = "The group the exporter runs as."; };
    enabledCollectors = mkOption { type = types.listOf types.str; default = [ ]; example = [ "systemd" ]; description = "Collectors enabled besides the default ones."; };
    disabledCollectors = mkOption { type = types.listOf types.str; default = [ ]; example = [ "timex" ]; description = "Default collectors turned off."; };
    extraFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "More command-line flags of the exporter."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    users.users = lib.mkIf (cfg.user == "node-exporter") { node-exporter = { isSystemUser = true; group = cfg.group; description = "Prometheus node exporter"; }; };
    users.groups = lib.mkIf (cfg.group == "node-exporter") { node-exporter = { }; };
    networking.firewall = lib.mkIf cfg.openFirewall (if cfg.firewallFilter == null
      then { allowedTCPPorts = [ cfg.port ]; }
      else { extraInputRules = "${cfg.firewallFilter} accept"; });

    systemd.services.prometheus-node-exporter = {
      description = "Prometheus exporter for machine metrics";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      serviceConfig = {
        ExecStart = "/usr/bin/prometheus-node-exporter ${lib.concatStringsSep " " flags}";
        User = cfg.user;
        Group = cfg.group;
        # Debian's exporter reads its textfile collector's folder by default (the package's
        # postinst makes it); without it the collector logs an error every scrape.
        StateDirectory = "prometheus/node-exporter";
        Restart = "always";
        NoNewPrivileges = true;
        PrivateTmp = true;
        ProtectHome = true;
        ProtectSystem = "full";
        ProtectKernelModules = true;
        ProtectControlGroups = true;
      };
    };
  };
}
