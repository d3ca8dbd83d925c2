# dnsmasq for a LAN: repeated keys from lists, bare keys from true, a key left out by false,
# and the machine asking dnsmasq first.
{ ... }:
{
  services.dnsmasq = {
    enable = true;
    settings = {
      domain-needed = true;
      bogus-priv = false;
      server = [ "9.9.9.9" "1.1.1.1" ];
      dhcp-range = "10.0.0.100,10.0.0.199,12h";
      cache-size = 500;
    };
    extraConfig = "log-dhcp";
  };
}
