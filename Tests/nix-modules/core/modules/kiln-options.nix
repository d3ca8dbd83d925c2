# A small stand-in for Kiln's option modules, for the eval-modules.nix tests.
{ lib, pkgs, ... }:
{
  options.environment.systemPackages = lib.mkOption { type = lib.types.listOf lib.types.package; default = [ ]; description = "Packages."; };
  options.networking.hostName = lib.mkOption { type = lib.types.str; default = "kiln"; description = "Host name."; };
  options.services.openssh.enable = lib.mkEnableOption "the OpenSSH daemon";
  options.users.users = lib.mkOption {
    type = lib.types.attrsOf (lib.types.submodule { options.isNormalUser = lib.mkOption { type = lib.types.bool; default = false; }; });
    default = { };
  };
  config.environment.systemPackages = [ pkgs.systemd ];
}
