# Every service Kiln ships, enabled at once: the module-system row of scripts/bench-eval.sh.
# The options cases that enable services, together (their host names differ: one wins).
{ lib, pkgs, ... }:
{
  imports = [ ../../profiles/server.nix ] ++ map (n: ./options + "/${n}.nix") [
    "acme" "acpid" "apparmor" "audit" "avahi" "backups" "bind" "caddy" "chrony" "clamav" "containers"
    "cron-logrotate" "desktop-extras" "dnsmasq" "fail2ban" "haproxy" "httpd" "influxdb-netdata"
    "laptop-services" "libvirtd" "mail-files" "media-server" "more-extras" "mosquitto" "mysql" "nat" "nginx"
    "openvpn" "phpfpm" "postgresql" "programs" "prometheus" "rabbitmq" "redis" "restic" "syncthing"
    "system-extras" "tor" "unbound" "wireguard" "xrdp" "xserver"
  ];
  networking.hostName = lib.mkForce "all";
  services.nginx.virtualHosts.server.default = lib.mkForce false;
  services.getty.autologinUser = "alice";
  console.keyMap = "fr";
  networking.interfaces.eth0.ipv4.addresses = [ { address = "10.0.0.2"; prefixLength = 24; } ];
  networking.defaultGateway = "10.0.0.1";
  networking.nameservers = [ "10.0.0.1" ];
  fileSystems."/data" = { device = "/dev/vdb"; fsType = "ext4"; };
  swapDevices = [ { device = "/swapfile"; } ];
  systemd.services.hello = { wantedBy = [ "multi-user.target" ]; script = "echo hello"; };
  systemd.timers.hello = { wantedBy = [ "timers.target" ]; timerConfig.OnCalendar = "daily"; };
}
