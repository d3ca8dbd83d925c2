{ ... }:
{
  services.tor = {
    enable = true;
    relay.enable = true;
    settings.ORPort = 9001;
  };
}
