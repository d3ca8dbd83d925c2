# services.thermald (NixOS: nixos/modules/services/hardware/thermald.nix): Intel's thermal
# daemon keeps laptops from throttling hard. Debian's unit says ConditionVirtualization=no,
# so in a virtual machine it is skipped, as it would be on NixOS.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.thermald;
in
{
  options.services.thermald = {
    enable = lib.mkEnableOption "thermald, the Intel thermal daemon";
    package = lib.mkOption { type = lib.types.package; default = pkgs.thermald; defaultText = lib.literalExpression "pkgs.thermald"; description = "The thermald package."; };
    debug = lib.mkOption { type = lib.types.bool; default = false; description = "Whether thermald logs at debug level (--loglevel=debug)."; };
    ignoreCpuidCheck = lib.mkOption { type = lib.types.bool; default = false; description = "Whether thermald runs on CPUs it does not know (--ignore-cpuid-check)."; };
    configFile = lib.mkOption { type = lib.types.nullOr lib.types.path; default = null; description = "A thermal configuration XML (--config-file); null uses the built-in tables."; };
  };

  config = lib.mkIf cfg.enable {
    services.dbus.packages = [ cfg.package ];
    systemd.services.thermald = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      # An empty ExecStart= clears the package's before the one with the options.
      serviceConfig.ExecStart = [ "" ("/usr/sbin/thermald --systemd --dbus-enable --adaptive"
        + lib.optionalString cfg.debug " --loglevel=debug"
        + lib.optionalString cfg.ignoreCpuidCheck " --ignore-cpuid-check"
        + lib.optionalString (cfg.configFile != null) " --config-file ${cfg.configFile}") ];
    };
  };
}
