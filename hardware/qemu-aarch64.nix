# A QEMU aarch64 virtual machine: `-M virt`, UEFI firmware (QEMU_EFI.fd from
# qemu-efi-aarch64), virtio disk on PCI or MMIO, PL011 serial console ttyAMA0.
# UEFI only: GRUB for arm64-efi (boot.loader.grub.device = "nodev") or systemd-boot.
# The drivers and the module tree are profiles/qemu-guest.nix's.
{ pkgs, lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];
  nixpkgs.hostPlatform = "aarch64-linux";
  boot.kernelPackage = pkgs.linux-image-arm64;
  boot.console = "ttyAMA0";
  hardware.firmware = [ "uefi" ];
  boot.loader.grub.device = lib.mkDefault "nodev";
  boot.loader.grub.efiSupport = lib.mkDefault true;
  # virtio on the MMIO transport first, then PCI.
  boot.initrd.kernelModules = lib.mkBefore [ "virtio_mmio" ];
  boot.kernelParams = [ "console=ttyAMA0,115200" ];
}
