# services.bind: NixOS's named.conf (ACLs, forwarders without the machine itself, a primary
# zone given as an attribute set and a secondary given in NixOS's list form), run as
# bind.service under named; the machine's own lookups go to it first.
{ ... }:
{
  networking.nameservers = [ "9.9.9.9" ];
  services.bind = {
    enable = true;
    cacheNetworks = [ "192.168.0.0/24" ];
    forward = "only";
    extraOptions = "dnssec-validation no;";
    zones = [
      { name = "example.test"; master = true; file = "/etc/bind/example.test.zone"; slaves = [ "192.168.0.2" ]; }
      { name = "other.test"; master = false; file = "other.test.zone"; masters = [ "192.168.0.9" ]; }
    ];
  };
}
