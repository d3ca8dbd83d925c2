# services.power-profiles-daemon (NixOS: nixos/modules/services/hardware/power-profiles-daemon.nix):
# the power-saver/balanced/performance switch GNOME and KDE show. Debian's unit is started
# by the bus or with the graphical target.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.power-profiles-daemon;
in
{
  options.services.power-profiles-daemon = {
    enable = lib.mkEnableOption "power-profiles-daemon, the power profile switch of desktops";
    package = lib.mkOption { type = lib.types.package; default = pkgs.power-profiles-daemon; defaultText = lib.literalExpression "pkgs.power-profiles-daemon"; description = "The power-profiles-daemon package."; };
  };

  config = lib.mkIf cfg.enable {
    services.dbus.packages = [ cfg.package ];
    systemd.services.power-profiles-daemon = { overrideStrategy = "asDropin"; wantedBy = [ "graphical.target" ]; };
  };
}
