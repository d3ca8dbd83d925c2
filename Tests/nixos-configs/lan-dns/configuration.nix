# The LAN's name server and DHCP server, a small box in the cupboard: dnsmasq answers for the
# home.arpa names (the fixed hosts kept in one let binding, forward and reverse), forwards
# the rest to public resolvers, hands out addresses, and sinks a few ad domains.
{ config, lib, pkgs, ... }:

let
  lan = "192.168.1";
  fixedHosts = {
    nas = "${lan}.10";
    printer = "${lan}.20";
    gateway = "${lan}.254";
  };
  sinkholed = [ "ads.example.com" "tracker.example.net" ];
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "dns";
  networking.domain = "home.arpa";

  services.dnsmasq = {
    enable = true;
    alwaysKeepRunning = true;
    settings = {
      domain-needed = true;
      bogus-priv = true;
      no-resolv = true;
      server = [ "9.9.9.9" "149.112.112.112" ];
      local = "/home.arpa/";
      domain = "home.arpa";
      expand-hosts = true;
      host-record = lib.mapAttrsToList (name: ip: "${name}.home.arpa,${name},${ip}") fixedHosts;
      address = map (domain: "/${domain}/0.0.0.0") sinkholed;
      dhcp-range = [ "${lan}.100,${lan}.199,12h" ];
      dhcp-option = [ "option:router,${fixedHosts.gateway}" ];
      dhcp-authoritative = true;
      cache-size = 1000;
      log-queries = false;
    };
  };

  networking.firewall = {
    allowedTCPPorts = [ 53 ];
    allowedUDPPorts = [ 53 67 ];
  };

  time.timeZone = "Europe/Amsterdam";
  system.stateVersion = "23.11";
}
