# Boot matrix: aarch64-grub-ext4 (built with --hardware hardware/qemu-aarch64.nix).
{ ... }:
{
  imports = [ ../../../profiles/minimal.nix ./ssh.nix ];
  boot.loader.grub.efiSupport = true;  # the aarch64 hardware sets device = "nodev"
  fileSystems."/".fsType = "ext4";
}
