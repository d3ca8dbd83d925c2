{ ... }:
{
  services.clamav.updater.enable = true;
  services.clamav.scanner.enable = true;
}
