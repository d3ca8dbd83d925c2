# A static address with a gateway and DNS servers, no DHCP.
{ ... }:
{
  networking = {
    hostName = "web";
    domain = "example.org";
    useDHCP = false;
    nameservers = [ "9.9.9.9" "149.112.112.112" ];
    interfaces.eth0.ipv4.addresses = [ { address = "192.168.1.2"; prefixLength = 24; } ];
    defaultGateway = "192.168.1.1";
    hosts."192.168.1.10" = [ "db" "db.example.org" ];
  };
}
