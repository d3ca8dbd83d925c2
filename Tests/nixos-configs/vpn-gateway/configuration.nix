# The office's VPN gateway: colleagues connect with WireGuard (wg-quick), and only through
# the tunnel reach what the office keeps inside — SSH to this machine, the intranet page,
# and names of the office's own zone from dnsmasq. From the LAN it answers WireGuard (and
# the monitoring host's scrapes, which the shared admins module opens) only.
{ config, lib, pkgs, ... }:

let
  vpn = import ../common/office-vpn.nix;
  gatewayIP = "${vpn.subnet}.1";
  intranet = pkgs.writeTextDir "index.html" ''
    <!doctype html>
    <title>Intranet</title>
    <p>Welcome to the office intranet.</p>
  '';
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "gateway";
  time.timeZone = "UTC";

  networking.wg-quick.interfaces.wg0 = {
    address = [ "${gatewayIP}/24" ];
    listenPort = vpn.port;
    # A demo key: a real gateway would use privateKeyFile, kept off the image.
    privateKey = "GBJOQpsTWjgLG9iI0TL8zGPs0qwm7+w/0elYLMyhCGA=";
    peers = lib.mapAttrsToList (name: p: {
      inherit (p) publicKey;
      allowedIPs = [ "${vpn.subnet}.${toString p.ip}/32" ];
    }) vpn.peers;
  };

  # SSH, DNS and the intranet only through the tunnel; WireGuard itself from anywhere.
  services.openssh.openFirewall = false;
  networking.firewall = {
    allowedUDPPorts = [ vpn.port ];
    interfaces.wg0 = {
      allowedTCPPorts = [ 22 80 ];
      allowedUDPPorts = [ 53 ];
    };
    # Colleagues may ping the gateway, nobody else.
    allowPing = false;
    extraInputRules = ''
      iifname "wg0" icmp type echo-request accept
    '';
  };

  services.dnsmasq = {
    enable = true;
    resolveLocalQueries = false;
    settings = {
      interface = "wg0";
      bind-dynamic = true;
      no-resolv = true;
      local = "/office.example.test/";
      address = [ "/intranet.office.example.test/${gatewayIP}" ];
      host-record = lib.mapAttrsToList (name: p: "${name}.office.example.test,${vpn.subnet}.${toString p.ip}") vpn.peers;
    };
  };

  services.nginx = {
    enable = true;
    virtualHosts."intranet.office.example.test" = {
      listen = [ { addr = gatewayIP; port = 80; } ];
      root = "${intranet}";
    };
  };
  # nginx binds the tunnel's address: it starts once the tunnel is up.
  systemd.services.nginx.after = [ "wg-quick-wg0.service" ];
  systemd.services.nginx.requires = [ "wg-quick-wg0.service" ];

  environment.systemPackages = with pkgs; [ wireguard-tools tcpdump ];

  system.stateVersion = "24.05";
}
