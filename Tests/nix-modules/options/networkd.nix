# systemd.network: a VLAN and a bridge as netdevs, networks with the shorthand options,
# routes in both NixOS forms, a DHCP server with a static lease, networkd.conf and
# wait-online.
{ ... }:
{
  networking.useNetworkd = true;
  networking.useDHCP = false;
  systemd.network = {
    netdevs."20-vlan10" = { netdevConfig = { Kind = "vlan"; Name = "vlan10"; }; vlanConfig.Id = 10; };
    netdevs."30-br0".netdevConfig = { Kind = "bridge"; Name = "br0"; };
    netdevs."40-old".enable = false;
    networks."10-wan" = {
      name = "enp1s0";
      DHCP = "ipv4";
      vlan = [ "vlan10" ];
      dns = [ "9.9.9.9" ];
      routes = [
        { routeConfig = { Gateway = "192.0.2.1"; Destination = "198.51.100.0/24"; }; }
        { Gateway = "192.0.2.2"; Destination = "203.0.113.0/24"; Metric = 50; }
      ];
      dhcpV4Config.UseDNS = false;
      linkConfig.RequiredForOnline = "routable";
    };
    networks."30-br0" = {
      matchConfig.Name = "br0";
      address = [ "10.0.0.1/24" "fd00::1/64" ];
      networkConfig.DHCPServer = true;
      dhcpServerStaticLeases = [ { MACAddress = "52:54:00:12:34:56"; Address = "10.0.0.10"; } ];
      extraConfig = "[IPv6SendRA]\nEmitDNS=no\n";
    };
    links."10-lan" = { matchConfig.MACAddress = "52:54:00:00:00:01"; linkConfig.Name = "lan"; };
    config.routeTables.vpn = 100;
    wait-online = { enable = true; anyInterface = true; ignoredInterfaces = [ "br0" ]; };
  };
}
