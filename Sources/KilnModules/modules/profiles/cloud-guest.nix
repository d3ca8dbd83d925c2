# What every cloud VM needs, whichever the cloud (NixOS: the common part of
# virtualisation/amazon-image.nix, google-compute-config.nix, azure-common.nix and
# openstack-config.nix). The presets in hardware/ (amazon, google, azure, openstack) import
# it and add their drivers, console settings and upload format.
#
# - Debian's cloud kernel (linux-image-cloud-amd64): built for the virtual hardware of the
#   big clouds (NVMe, ENA, gVNIC, Hyper-V, Xen, virtio), its whole module tree is small, so
#   udev finds whichever NIC the instance type has.
# - The serial console on ttyS0, where every cloud shows the boot log and takes a console.
# - GRUB for BIOS and UEFI on one disk: instance types differ in firmware.
# - The root partition and filesystem grow to the disk at first boot (the disk is bigger
#   than the image); filesystems are found by UUID, never by device path (the disk is
#   nvme0n1 on one cloud, sda on another).
# - cloud-init for the host name, the SSH keys and user-data, and an SSH server.
{ lib, pkgs, ... }:
{
  nixpkgs.hostPlatform = "x86_64-linux";
  boot.kernelPackage = pkgs.linux-image-cloud-amd64;
  boot.kernelModulesTree = lib.mkDefault null;
  boot.console = "ttyS0";
  hardware.firmware = [ "bios" "uefi" ];
  boot.loader.grub.device = lib.mkDefault "/dev/sda";
  boot.loader.grub.efiSupport = lib.mkDefault true;
  boot.growPartition = lib.mkDefault true;
  fileSystems."/".autoResize = lib.mkDefault true;
  services.cloud-init.enable = lib.mkDefault true;
  services.openssh.enable = lib.mkDefault true;
  services.openssh.settings.PasswordAuthentication = lib.mkDefault false;
  services.openssh.settings.KbdInteractiveAuthentication = lib.mkDefault false;
}
