# Boot matrix: x86_64-grub-btrfs (built with --hardware hardware/qemu-x86_64.nix).
{ ... }:
{
  imports = [ ../../../profiles/minimal.nix ./ssh.nix ];
  # One disk for both firmwares: GRUB in the MBR (the hardware's default device) and on the ESP.
  boot.loader.grub.efiSupport = true;
  fileSystems."/".fsType = "btrfs";
  # A disk bigger than the image is used whole (matrix.sh boots one copy on a grown disk).
  boot.growPartition = true;
  fileSystems."/".autoResize = true;
}
