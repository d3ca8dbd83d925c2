# A netdev without a Kind: networkd would ignore the file; Kiln names it.
{ ... }:
{
  systemd.network.enable = true;
  systemd.network.netdevs."20-br0".netdevConfig.Name = "br0";
}
