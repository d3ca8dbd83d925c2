# A QEMU x86_64 virtual machine (q35/pc, virtio disk, serial console ttyS0). Its firmware
# is SeaBIOS (BIOS) or OVMF (UEFI): GRUB goes into the MBR for BIOS by default; set
# boot.loader.grub.efiSupport (hybrid) or boot.loader.systemd-boot.enable for UEFI.
# The drivers and the module tree are profiles/qemu-guest.nix's.
{ pkgs, lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];
  nixpkgs.hostPlatform = "x86_64-linux";
  boot.kernelPackage = pkgs.linux-image-amd64;
  boot.console = "ttyS0";
  hardware.firmware = [ "bios" "uefi" ];
  boot.loader.grub.device = lib.mkDefault "/dev/vda";
  boot.kernelParams = [ "console=ttyS0,115200" ];
}
