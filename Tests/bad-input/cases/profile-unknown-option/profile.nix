{ ... }:
{
  services.nosuchservice.enable = true;
}
