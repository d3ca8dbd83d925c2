# What every Kiln system has: systemd as PID 1 and the packages its boot and login need.
{ pkgs, lib, ... }:
{
  environment.systemPackages = with pkgs; [
    systemd udev util-linux login kmod bash coreutils dash hostname libpam-runtime libpam-modules
  ];
  users.users.root = { uid = 0; group = "root"; home = "/root"; shell = "/bin/bash"; };
  boot.loader.timeout = lib.mkDefault 1;
  # The boot loader: GRUB unless boot.loader.systemd-boot.enable; GRUB boots by BIOS unless
  # boot.loader.grub.device = "nodev", and by UEFI too with boot.loader.grub.efiSupport.
  fileSystems."/".fsType = lib.mkDefault "ext4";
  boot.kernelParams = [ "panic=-1" ];
  networking.hostName = lib.mkDefault "kiln";
}
