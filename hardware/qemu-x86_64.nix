# A QEMU x86_64 virtual machine: virtio disk, serial console, BIOS boot through GRUB.
{ pkgs, ... }:
{
  nixpkgs.hostPlatform = "x86_64-linux";
  boot.kernelPackage = pkgs.linux-image-amd64;
  boot.console = "ttyS0";
  # Loaded by the initrd in this order (after their modules.dep dependencies);
  # crc32c_generic is a soft dependency of ext4 that modules.dep does not list.
  boot.initrd.kernelModules = [
    "virtio_pci_modern_dev" "virtio_pci_legacy_dev" "virtio_pci" "virtio_blk"
    "crc32c_generic" "jbd2" "mbcache" "crc16" "ext4"
  ];
  boot.kernelParams = [ "console=ttyS0,115200" ];
}
