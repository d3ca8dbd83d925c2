# Opened ports and ranges, one interface's own port, no ping.
{ ... }:
{
  networking.firewall = {
    allowedTCPPorts = [ 80 443 80 ];
    allowedUDPPorts = [ 53 ];
    allowedTCPPortRanges = [ { from = 8000; to = 8010; } ];
    allowPing = false;
    interfaces.eth1.allowedTCPPorts = [ 5432 ];
    rejectPackets = true;
  };
}
