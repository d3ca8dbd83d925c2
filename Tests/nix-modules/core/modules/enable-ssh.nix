# Shorthand module (no options/config): everything is config.
{ config, ... }:
{
  imports = [ ./declare-services.nix ];
  services.openssh.enable = true;
  services.openssh.ports = [ 2222 ];
}
