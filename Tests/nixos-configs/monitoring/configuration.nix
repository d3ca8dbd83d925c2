# The monitoring host: Prometheus scrapes every server's node exporter (the list is kept in
# one let binding), with a rule that alerts on a host that is down; Mosquitto takes the
# sensors' readings; journald is capped and logs are rotated.
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
  networking.firewall.allowedTCPPorts = [ config.services.prometheus.port 1883 ];

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

  services.journald.extraConfig = "SystemMaxUse=200M";
  services.logrotate.enable = true;

  environment.systemPackages = with pkgs; [ mosquitto curl jq ];

  system.stateVersion = "23.11";
}
