# A profile for the eval-modules.nix tests.
{ config, lib, pkgs, ... }:
{
  networking.hostName = "minimal";
  services.openssh.enable = true;
  environment.systemPackages = with pkgs; [ bash coreutils ]
    ++ lib.optional config.services.openssh.enable pkgs.openssh-server;
  assertions = [ { assertion = config.networking.hostName != ""; message = "hostName must not be empty"; } ];
}
