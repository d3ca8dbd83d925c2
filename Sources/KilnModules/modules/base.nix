# What every Kiln system has: systemd as PID 1 and the packages its boot and login need.
{ pkgs, lib, ... }:
{
  environment.systemPackages = with pkgs; [
    systemd udev util-linux login kmod bash coreutils dash hostname libpam-runtime libpam-modules
  ];
  users.users.root = { uid = 0; group = "root"; home = "/root"; shell = "/bin/bash"; };
  boot.loader.timeout = lib.mkDefault 1;
  boot.kernelParams = [ "panic=-1" ];
  networking.hostName = lib.mkDefault "kiln";
}
