# The branch office's router, configured the networkd way (systemd.network, as many NixOS
# routers are): the uplink by DHCP, the office VPN as a WireGuard netdev with the gateway as
# its peer (the office's names resolve through it), and the branch's LAN ports on a bridge
# where networkd's own DHCP server hands out addresses.
{ config, lib, pkgs, ... }:

let
  vpn = import ../common/office-vpn.nix;
  me = vpn.peers.branch;
in
{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "branch";
  time.timeZone = "Europe/Lisbon";

  networking.useDHCP = false;
  networking.useNetworkd = true;
  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;

  systemd.network = {
    enable = true;

    networks."10-uplink" = {
      matchConfig.Name = "enp1s0";
      networkConfig.DHCP = "ipv4";
    };

    netdevs."20-office" = {
      netdevConfig = { Kind = "wireguard"; Name = "office"; };
      wireguardConfig.PrivateKeyFile = "/etc/wireguard/office.key";
      wireguardPeers = [
        { wireguardPeerConfig = {
            PublicKey = vpn.gateway.publicKey;
            Endpoint = "${vpn.endpoint}:${toString vpn.port}";
            AllowedIPs = [ "${vpn.subnet}.0/24" ];
            PersistentKeepalive = 25;
          };
        }
      ];
    };
    networks."20-office" = {
      matchConfig.Name = "office";
      address = [ "${vpn.subnet}.${toString me.ip}/24" ];
      dns = [ "${vpn.subnet}.1" ];
      domains = [ "~office.example.test" ];
    };

    netdevs."30-br-lan".netdevConfig = { Kind = "bridge"; Name = "br-lan"; };
    networks."30-lan-ports" = {
      matchConfig.Name = "enp2s0 enp3s0";
      networkConfig.Bridge = "br-lan";
    };
    networks."31-br-lan" = {
      matchConfig.Name = "br-lan";
      address = [ "10.20.0.1/24" ];
      networkConfig = {
        DHCPServer = true;
        ConfigureWithoutCarrier = true;
      };
      dhcpServerConfig = {
        PoolOffset = 100;
        PoolSize = 100;
        EmitDNS = false;
      };
      linkConfig.RequiredForOnline = "no";
    };
  };

  # A demo key: a real router keeps it off the image. networkd reads it as systemd-network.
  environment.etc."wireguard/office.key" = {
    text = "sIBoUx5KH0FjknMqcKr4L4ZZTYY3GTzuj1s7LuZmImk=";
    mode = "0640";
    group = "systemd-network";
  };

  networking.firewall.interfaces.br-lan.allowedUDPPorts = [ 67 ];

  environment.systemPackages = with pkgs; [ wireguard-tools tcpdump ];

  system.stateVersion = "24.05";
}
