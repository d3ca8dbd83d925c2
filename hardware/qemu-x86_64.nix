# A QEMU x86_64 virtual machine (q35/pc, virtio disk, serial console ttyS0). Its firmware
# is SeaBIOS (BIOS) or OVMF (UEFI): GRUB goes into the MBR for BIOS by default; set
# boot.loader.grub.efiSupport (hybrid) or boot.loader.systemd-boot.enable for UEFI.
{ pkgs, lib, ... }:
{
  nixpkgs.hostPlatform = "x86_64-linux";
  boot.kernelPackage = pkgs.linux-image-amd64;
  boot.console = "ttyS0";
  hardware.firmware = [ "bios" "uefi" ];
  boot.loader.grub.device = lib.mkDefault "/dev/vda";
  # The storage drivers, loaded by the initrd in this order (after their modules.dep
  # dependencies); the root filesystem's modules are added for fileSystems."/".fsType.
  boot.initrd.kernelModules = [
    "virtio_pci_modern_dev" "virtio_pci_legacy_dev" "virtio_pci" "virtio_blk"
  ];
  boot.kernelParams = [ "console=ttyS0,115200" ];
}
