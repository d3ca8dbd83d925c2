# services.fwupd (NixOS: nixos/modules/services/hardware/fwupd.nix): firmware updates from
# LVFS (`fwupdmgr refresh`, `fwupdmgr update`). The daemon is started by the bus; the
# refresh timer fetches the metadata hourly, as Debian's unit says.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.fwupd;
in
{
  options.services.fwupd = {
    enable = lib.mkEnableOption "fwupd, the firmware update daemon";
    package = lib.mkOption { type = lib.types.package; default = pkgs.fwupd; defaultText = lib.literalExpression "pkgs.fwupd"; description = "The fwupd package."; };
    daemonSettings = lib.mkOption {
      type = lib.types.attrsOf (lib.types.oneOf [ lib.types.str lib.types.bool lib.types.int (lib.types.listOf lib.types.str) ]);
      default = { };
      example = { EspLocation = "/boot"; };
      description = "Settings of the [fwupd] section of /etc/fwupd/fwupd.conf (lists joined by ';').";
    };
  };

  config = lib.mkIf cfg.enable {
    services.dbus.packages = [ cfg.package ];
    environment.etc."fwupd/fwupd.conf" = lib.mkIf (cfg.daemonSettings != { }) {
      text = lib.generators.toINI { } {
        fwupd = lib.mapAttrs (_: v: if builtins.isList v then lib.concatStringsSep ";" v else if builtins.isBool v then (if v then "true" else "false") else toString v) cfg.daemonSettings;
      };
      mode = "0640";
    };
    systemd.timers.fwupd-refresh = { overrideStrategy = "asDropin"; wantedBy = [ "timers.target" ]; };
  };
}
