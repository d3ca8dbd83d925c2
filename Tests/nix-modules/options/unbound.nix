# services.unbound: NixOS's unbound.conf (sections, repeated keys, yes/no), a forward zone
# list, the machine's own lookups through it.
{ ... }:
{
  services.unbound = {
    enable = true;
    localControlSocketPath = "/run/unbound/unbound.ctl";
    settings = {
      server = { interface = [ "0.0.0.0" "::" ]; prefetch = true; num-threads = 2; };
      forward-zone = [ { name = "."; forward-addr = [ "9.9.9.9@853#dns.quad9.net" ]; forward-tls-upstream = true; } ];
    };
  };
}
