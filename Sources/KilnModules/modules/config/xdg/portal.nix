# xdg.portal (NixOS: nixos/modules/config/xdg/portal.nix): the D-Bus portals sandboxed
# applications (Flatpak) use to open files, links and screenshots. The front end,
# xdg-desktop-portal, is a user service started by the session bus; the back ends are the
# extraPortals; `config` chooses between them (/etc/xdg/xdg-desktop-portal/<desktop>-portals.conf).
{ config, lib, pkgs, options, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.xdg.portal;
  iniValue = v: if builtins.isList v then lib.concatStringsSep ";" v else v;
in
{
  options.xdg.portal = {
    enable = lib.mkEnableOption "xdg desktop portals (needed by Flatpak)";
    extraPortals = mkOption {
      type = types.listOf types.package;
      default = [ ];
      example = lib.literalExpression "[ pkgs.xdg-desktop-portal-gtk ]";
      description = "Portal back ends (xdg-desktop-portal-gtk, -kde, -wlr …).";
    };
    config = mkOption {
      type = types.attrsOf (types.attrsOf (types.either types.str (types.listOf types.str)));
      default = { };
      example = { common.default = [ "gtk" ]; };
      description = "Which back end serves which portal, per desktop (XDG_CURRENT_DESKTOP, lower case) or `common`.";
    };
    configPackages = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages whose share/xdg-desktop-portal/*-portals.conf choose the back ends; they are installed."; };
    xdgOpenUsePortal = mkOption {
      type = types.bool;
      default = false;
      description = "NixOS's xdg-open goes through the portal when set; Debian's xdg-open has no such switch, so Kiln warns and does nothing.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = cfg.extraPortals != [ ];
      message = "xdg.portal.enable: the portal needs a back end in xdg.portal.extraPortals, such as pkgs.xdg-desktop-portal-gtk.";
    }];
    warnings = lib.optional cfg.xdgOpenUsePortal
      "xdg.portal.xdgOpenUsePortal (${lib.concatStringsSep ", " (map toString options.xdg.portal.xdgOpenUsePortal.files)}): Debian's xdg-open cannot be told to use the portal, so this does nothing.";
    environment.systemPackages = [ pkgs.xdg-desktop-portal ] ++ cfg.extraPortals ++ cfg.configPackages;
    environment.etc = lib.mapAttrs' (desktop: sections: lib.nameValuePair "xdg/xdg-desktop-portal/${if desktop == "common" then "" else "${desktop}-"}portals.conf" {
      text = lib.generators.toINI { } { preferred = lib.mapAttrs (_: iniValue) sections; };
    }) cfg.config;
  };
}
