{ config, lib, pkgs, ... }:
{
  config = lib.mkMerge [
    (lib.mkIf config.services.openssh.enable { environment.systemPackages = [ pkgs.openssh-sftp-server ]; })
    (lib.mkIf false { environment.systemPackages = [ pkgs.never ]; })
  ];
}
