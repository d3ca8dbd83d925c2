# TLP and power-profiles-daemon both manage the CPU's power profile: NixOS refuses both.
{ ... }:
{
  services.tlp.enable = true;
  services.power-profiles-daemon.enable = true;
}
