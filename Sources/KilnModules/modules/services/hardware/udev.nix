# services.udev (NixOS: nixos/modules/services/hardware/udev.nix): rules of the
# configuration's own (a device's permissions, a fixed name) and packages whose rules udev
# should use. Debian's packages keep theirs in /lib/udev/rules.d, which udev reads, so
# `packages` only installs them; extraRules go to /etc/udev/rules.d/99-local.rules and
# extraHwdb to /etc/udev/hwdb.d/99-local.hwdb, compiled into hwdb.bin when the image is
# first booted (systemd-hwdb-update, ConditionNeedsUpdate=/etc).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.udev;
in
{
  options.services.udev = {
    packages = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages whose udev rules (lib/udev/rules.d) are used; they are installed."; };
    extraRules = mkOption {
      type = types.lines;
      default = "";
      example = ''SUBSYSTEM=="usb", ATTRS{idVendor}=="0483", MODE="0666"'';
      description = "udev rules of the configuration (/etc/udev/rules.d/99-local.rules).";
    };
    extraHwdb = mkOption { type = types.lines; default = ""; description = "hwdb entries of the configuration (/etc/udev/hwdb.d/99-local.hwdb)."; };
    path = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages whose programs the rules RUN; they are installed (on the system path udev searches)."; };
  };

  config = {
    environment.systemPackages = cfg.packages ++ cfg.path;
    environment.etc."udev/rules.d/99-local.rules" = lib.mkIf (cfg.extraRules != "") { text = cfg.extraRules; };
    environment.etc."udev/hwdb.d/99-local.hwdb" = lib.mkIf (cfg.extraHwdb != "") { text = cfg.extraHwdb; };
  };
}
