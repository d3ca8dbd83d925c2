# NAT for a LAN behind eth1, a forwarded port (reachable from the LAN and the machine itself
# at the public address) and a forwarded range.
{ ... }:
{
  networking.nat = {
    enable = true;
    internalInterfaces = [ "eth1" ];
    internalIPs = [ "10.0.0.0/24" ];
    externalInterface = "eth0";
    forwardPorts = [
      { sourcePort = 8080; destination = "10.0.0.2:80"; loopbackIPs = [ "203.0.113.7" ]; }
      { sourcePort = "6000:6010"; proto = "udp"; destination = "10.0.0.3:6000-6010"; }
    ];
  };
}
