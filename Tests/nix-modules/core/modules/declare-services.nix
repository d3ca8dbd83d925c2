# Declares services.openssh.* and services.nginx.*; imported twice by modules-basic.nix.
{ lib, ... }:
{
  options.services.openssh = {
    enable = lib.mkEnableOption "the OpenSSH daemon";
    ports = lib.mkOption { type = lib.types.listOf lib.types.port; default = [ 22 ]; description = "Ports."; };
  };
  options.services.nginx.enable = lib.mkEnableOption "nginx";
}
