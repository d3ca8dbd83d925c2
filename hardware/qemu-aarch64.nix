# A QEMU aarch64 virtual machine: `-M virt`, UEFI firmware (QEMU_EFI.fd from
# qemu-efi-aarch64), virtio disk on PCI or MMIO, PL011 serial console ttyAMA0.
# UEFI only: GRUB for arm64-efi (boot.loader.grub.device = "nodev") or systemd-boot.
{ pkgs, lib, ... }:
{
  nixpkgs.hostPlatform = "aarch64-linux";
  boot.kernelPackage = pkgs.linux-image-arm64;
  boot.console = "ttyAMA0";
  hardware.firmware = [ "uefi" ];
  boot.loader.grub.device = lib.mkDefault "nodev";
  boot.loader.grub.efiSupport = lib.mkDefault true;
  boot.initrd.kernelModules = [
    "virtio_mmio" "virtio_pci_modern_dev" "virtio_pci_legacy_dev" "virtio_pci" "virtio_blk"
  ];
  boot.kernelParams = [ "console=ttyAMA0,115200" ];
}
