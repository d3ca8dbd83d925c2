# services.udisks2 (NixOS: nixos/modules/services/hardware/udisks2.nix): disks and mounts
# over D-Bus, what file managers use to mount a USB stick. Debian's udisks2 ships the unit
# and the bus activation; settings become its INI files in /etc/udisks2.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.udisks2;
  ini = lib.generators.toINI { };
in
{
  options.services.udisks2 = {
    enable = lib.mkEnableOption "udisks2, which mounts disks for users over D-Bus";
    package = lib.mkOption { type = lib.types.package; default = pkgs.udisks2; defaultText = lib.literalExpression "pkgs.udisks2"; description = "The udisks2 package."; };
    mountOnMedia = lib.mkOption { type = lib.types.bool; default = false; description = "Whether disks are mounted under /media instead of /run/media/<user>."; };
    settings = lib.mkOption {
      type = lib.types.attrsOf (lib.types.attrsOf (lib.types.attrsOf (lib.types.oneOf [ lib.types.str lib.types.int lib.types.bool ])));
      default = { "udisks2.conf" = { udisks2.modules = "*"; udisks2.modules_load_preference = "ondemand"; defaults.encryption = "luks2"; }; };
      description = "Files in /etc/udisks2, each an INI set of sections (udisks2.conf, mount_options.conf).";
    };
  };

  config = lib.mkIf cfg.enable {
    services.dbus.packages = [ cfg.package ];
    environment.etc = lib.mapAttrs' (name: value: lib.nameValuePair "udisks2/${name}" { text = ini value; }) cfg.settings;
    # udisks2 mounts under /media when this udev property is set (NixOS writes the same rule).
    services.udev.extraRules = lib.mkIf cfg.mountOnMedia ''
      ENV{ID_FS_USAGE}=="filesystem|other|crypto", ENV{UDISKS_FILESYSTEM_SHARED}="1"
    '';
    systemd.services.udisks2 = { overrideStrategy = "asDropin"; wantedBy = [ "graphical.target" ]; };
  };
}
