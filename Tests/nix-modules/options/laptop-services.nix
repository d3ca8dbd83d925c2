# What laptop and small-server configurations switch on beside the desktop: SSD trimming,
# earlyoom, the locate database, power and disk services for the desktop, firmware updates,
# thermald and TLP, Bluetooth with blueman, the QEMU guest agent, smartd, and Flatpak with
# its portal.
{ pkgs, ... }:
{
  services.fstrim = { enable = true; interval = "daily"; };
  services.earlyoom = { enable = true; freeMemThreshold = 5; freeSwapKillThreshold = 2; enableNotifications = true; };
  services.locate = { enable = true; interval = "hourly"; pruneNames = [ ".git" "node_modules" ]; };
  services.upower = { enable = true; criticalPowerAction = "PowerOff"; };
  services.udisks2 = { enable = true; mountOnMedia = true; };
  services.fwupd = { enable = true; daemonSettings.EspLocation = "/boot"; };
  services.thermald.enable = true;
  services.tlp = { enable = true; settings = { START_CHARGE_THRESH_BAT0 = 75; STOP_CHARGE_THRESH_BAT0 = 80; USB_AUTOSUSPEND = false; CPU_SCALING_GOVERNOR_ON_AC = "performance"; }; };
  hardware.bluetooth = { enable = true; powerOnBoot = false; settings.General.Experimental = true; };
  services.blueman.enable = true;
  services.qemuGuest.enable = true;
  services.smartd = { enable = true; devices = [ { device = "/dev/sda"; options = "-d sat"; } ]; extraOptions = [ "--interval=3600" ]; };
  services.flatpak.enable = true;
  xdg.portal = { enable = true; extraPortals = [ pkgs.xdg-desktop-portal-gtk ]; config.common.default = [ "gtk" ]; xdgOpenUsePortal = true; };
}
