# GNOME, which Kiln does not have yet.
{ ... }:
{
  services.xserver = { enable = true; displayManager.gdm.enable = true; desktopManager.gnome.enable = true; };
}
