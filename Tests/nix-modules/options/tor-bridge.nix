{ ... }:
{
  services.tor = {
    enable = true;
    openFirewall = true;
    relay = { enable = true; role = "private-bridge"; };
    settings = { ORPort = [ { port = 443; IPv4Only = true; } ]; ContactInfo = "ops@example.org"; };
  };
}
