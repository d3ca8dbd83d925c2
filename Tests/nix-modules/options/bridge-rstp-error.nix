# RSTP needs mstpd, which Kiln does not run: refused by name.
{ ... }:
{
  networking.bridges.br0 = { interfaces = [ "eth0" ]; rstp = true; };
}
