# services.fstrim (NixOS: nixos/modules/services/misc/fstrim.nix): util-linux's fstrim.timer
# discards the unused blocks of every mounted file system that supports it, weekly unless
# `interval` says otherwise.
{ config, lib, ... }:
let
  cfg = config.services.fstrim;
in
{
  options.services.fstrim = {
    enable = lib.mkEnableOption "periodic discarding of unused blocks (fstrim.timer)";
    interval = lib.mkOption {
      type = lib.types.str;
      default = "weekly";
      example = "daily";
      description = "When fstrim runs (a systemd calendar expression, OnCalendar=).";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.timers.fstrim = {
      overrideStrategy = "asDropin";
      wantedBy = [ "timers.target" ];
      # An empty OnCalendar= drops the package's own before the configured one.
      timerConfig.OnCalendar = [ "" cfg.interval ];
    };
  };
}
