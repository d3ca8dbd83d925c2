# An instance name that cannot be a unit name is refused by name.
{ ... }:
{
  services.openvpn.servers."my vpn".config = "dev tun";
}
