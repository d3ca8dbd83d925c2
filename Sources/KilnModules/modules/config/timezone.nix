# time.timeZone (NixOS: nixos/modules/config/locale.nix): /etc/localtime links to Debian's
# tzdata zone file, /etc/timezone names it. null (the default) is UTC, which needs no file.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.time;
in
{
  options.time = {
    timeZone = mkOption {
      type = types.nullOr (types.strMatching "[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*");
      default = null;
      example = "Europe/Berlin";
      description = "The time zone, as a tzdata name; null: UTC.";
    };
    hardwareClockInLocalTime = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the hardware clock keeps local time instead of UTC (/etc/adjtime).";
    };
  };

  config = lib.mkMerge [
    (lib.mkIf (cfg.timeZone != null) {
      environment.systemPackages = [ pkgs.tzdata ];
      environment.etc."localtime".source = "/usr/share/zoneinfo/${cfg.timeZone}";
      environment.etc."timezone".text = cfg.timeZone + "\n";
    })
    (lib.mkIf cfg.hardwareClockInLocalTime {
      environment.etc."adjtime".text = "0.0 0 0.0\n0\nLOCAL\n";
    })
  ];
}
