# services.journald settings, and timesyncd with its own servers.
{ ... }:
{
  services.journald = { storage = "volatile"; extraConfig = "SystemMaxUse=50M"; rateLimitBurst = 500; };
  services.timesyncd = { enable = true; servers = [ "ntp.example.org" ]; };
}
