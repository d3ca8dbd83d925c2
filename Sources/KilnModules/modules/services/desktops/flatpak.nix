# services.flatpak (NixOS: nixos/modules/services/desktops/flatpak.nix): sandboxed desktop
# applications from remotes such as Flathub (`flatpak remote-add`, `flatpak install`).
# Debian's flatpak brings the system helper (started by the bus) and its polkit rules; its
# maintainer scripts would add the helper's account and the system repository, which Kiln
# does here. The installed applications are found through XDG_DATA_DIRS, in every session
# (Debian's /etc/profile.d/flatpak.sh reaches login shells only).
{ config, lib, pkgs, ... }:
let
  cfg = config.services.flatpak;
in
{
  options.services.flatpak = {
    enable = lib.mkEnableOption "Flatpak";
    package = lib.mkOption { type = lib.types.package; default = pkgs.flatpak; defaultText = lib.literalExpression "pkgs.flatpak"; description = "The Flatpak package."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = config.xdg.portal.enable;
      message = "services.flatpak.enable: Flatpak applications need xdg.portal.enable = true (with a back end in xdg.portal.extraPortals).";
    }];
    environment.systemPackages = [ cfg.package ];
    services.dbus.packages = [ cfg.package ];
    users.users._flatpak = { isSystemUser = true; group = "_flatpak"; home = "/nonexistent"; description = "Flatpak system-wide installation helper"; };
    users.groups._flatpak = { };
    systemd.tmpfiles.rules = [ "d /var/lib/flatpak 0755 root root -" ];
    security.polkit.enable = true;
    environment.sessionVariables.XDG_DATA_DIRS = [ "/usr/local/share" "/usr/share" "/var/lib/flatpak/exports/share" ];
  };
}
