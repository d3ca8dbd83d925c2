# networking.vlans and networking.bridges: a VLAN on the card, a bridge holding it and a
# second card, the bridge's address; the card stays with DHCP, the port does not.
{ ... }:
{
  networking.vlans.vlan7 = { id = 7; interface = "eth0"; };
  networking.bridges.br0.interfaces = [ "vlan7" "eth1" ];
  networking.interfaces.br0.ipv4.addresses = [ { address = "10.7.0.2"; prefixLength = 24; } ];
}
