# The docs team's edge: HAProxy in front of the documentation servers, checking them and
# sending readers to the first that answers (the second is a standby, not built yet: its
# name does not resolve, so HAProxy keeps it in maintenance instead of refusing to start).
# Its statistics page answers on the machine itself only.
{ config, lib, pkgs, ... }:

{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "edge";

  services.haproxy = {
    enable = true;
    config = ''
      global
        maxconn 2000

      defaults
        mode http
        option httplog
        timeout connect 5s
        timeout client 30s
        timeout server 30s
        default-server init-addr last,libc,none

      frontend www
        bind :80
        http-request set-header X-Forwarded-Proto http
        default_backend docs

      backend docs
        option httpchk GET /
        server docs1 docs1.internal:80 check
        server docs2 docs2.internal:80 check backup

      listen stats
        bind 127.0.0.1:8404
        stats enable
        stats uri /stats
    '';
  };
  networking.firewall.allowedTCPPorts = [ 80 ];

  environment.systemPackages = with pkgs; [ curl ];

  system.stateVersion = "24.05";
}
