# The monitoring host: Prometheus scrapes every server's node exporter (the list is kept in
# one let binding), with a rule that alerts on a host that is down; Mosquitto takes the
# sensors' readings, InfluxDB keeps them; netdata graphs this host second by second; journald
# is capped and logs are rotated.
{ config, lib, pkgs, ... }:

let
  servers = [ "web" ];
  exporterPort = config.services.prometheus.exporters.node.port;
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "monitoring";
  networking.firewall.allowedTCPPorts = [ config.services.prometheus.port 1883 8086 19999 ];

  services.prometheus = {
    enable = true;
    globalConfig.scrape_interval = "5s";
    scrapeConfigs = [
      {
        job_name = "node";
        static_configs = [ {
          targets = map (h: "${h}:${toString exporterPort}") (servers ++ [ "localhost" ]);
          labels.site = "lab";
        } ];
      }
    ];
    rules = [ ''
      groups:
        - name: hosts
          rules:
            - alert: HostDown
              expr: up == 0
              for: 1m
    '' ];
  };

  services.mosquitto = {
    enable = true;
    listeners = [ {
      port = 1883;
      users.sensor = {
        # mosquitto_passwd's form ($7$: PBKDF2-SHA512) of "sensor-secret"
        hashedPassword = "$7$101$a2lsbi1jb3JwdXMx$ULS9ygXo0eYIrbzw/4E75Et8QAFJXyvVpcy63pi6pLjol4nucHaTpKiGXVoXFUSZxEzu/bopnErclLqK0I1lRg==";
        acl = [ "readwrite sensors/#" ];
      };
    } ];
  };

  # The sensors' history. (Grafana would draw it; it is not in Debian 12.)
  services.influxdb = {
    enable = true;
    extraConfig = {
      http.log-enabled = false;
      retention.check-interval = "1h";
    };
  };

  # Per-second graphs of this host, every other second, without the machine learning that a
  # small VM cannot spare.
  services.netdata = {
    enable = true;
    config = {
      global."update every" = 2;
      ml.enabled = "no";
    };
  };

  services.journald.extraConfig = "SystemMaxUse=200M";
  services.logrotate.enable = true;

  environment.systemPackages = with pkgs; [ mosquitto curl jq ];

  system.stateVersion = "23.11";
}
