# hardware.bluetooth (NixOS: nixos/modules/services/hardware/bluetooth.nix): BlueZ. Its unit
# runs only where the kernel found an adapter (ConditionPathIsDirectory=/sys/class/bluetooth),
# so enabling it on a machine without one costs nothing. settings are /etc/bluetooth/main.conf
# as NixOS writes it; powerOnBoot is its [Policy] AutoEnable.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.hardware.bluetooth;
  iniValue = v: if builtins.isBool v then (if v then "true" else "false") else if builtins.isList v then lib.concatStringsSep "," (map toString v) else toString v;
in
{
  options.hardware.bluetooth = {
    enable = lib.mkEnableOption "Bluetooth (BlueZ)";
    package = mkOption { type = types.package; default = pkgs.bluez; defaultText = lib.literalExpression "pkgs.bluez"; description = "The BlueZ package."; };
    powerOnBoot = mkOption { type = types.bool; default = true; description = "Whether adapters are powered on when found."; };
    settings = mkOption {
      type = types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
      default = { };
      example = { General.Enable = "Source,Sink,Media,Socket"; General.Experimental = true; };
      description = "/etc/bluetooth/main.conf, by section.";
    };
    input = mkOption {
      type = types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str ]));
      default = { };
      example = { General.UserspaceHID = true; };
      description = "/etc/bluetooth/input.conf, by section (empty: Debian's file).";
    };
  };

  config = lib.mkIf cfg.enable {
    hardware.bluetooth.settings.Policy.AutoEnable = lib.mkDefault cfg.powerOnBoot;
    services.dbus.packages = [ cfg.package ];
    environment.etc."bluetooth/main.conf".text = lib.generators.toINI { mkKeyValue = k: v: "${k}=${iniValue v}"; } cfg.settings;
    environment.etc."bluetooth/input.conf" = lib.mkIf (cfg.input != { }) {
      text = lib.generators.toINI { mkKeyValue = k: v: "${k}=${iniValue v}"; } cfg.input;
    };
    # What `systemctl enable bluetooth` makes: the Alias= the bus starts it by, and the
    # target's want, which udev pulls in when an adapter appears.
    environment.etc."systemd/system/dbus-org.bluez.service".source = "/lib/systemd/system/bluetooth.service";
    systemd.services.bluetooth = { overrideStrategy = "asDropin"; wantedBy = [ "bluetooth.target" ]; };
  };
}
