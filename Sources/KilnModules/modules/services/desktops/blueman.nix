# services.blueman (NixOS: nixos/modules/services/desktops/blueman.nix): the GTK Bluetooth
# manager and tray applet. Its privileged helper is started by the bus; the applet by the
# desktop session's autostart entry the package ships.
{ config, lib, pkgs, ... }:
{
  options.services.blueman.enable = lib.mkEnableOption "blueman, the GTK Bluetooth manager";

  config = lib.mkIf config.services.blueman.enable {
    environment.systemPackages = [ pkgs.blueman ];
    services.dbus.packages = [ pkgs.blueman ];
  };
}
