# Boot matrix: aarch64-systemd-boot-ext4 (built with --hardware hardware/qemu-aarch64.nix).
{ ... }:
{
  imports = [ ../../../profiles/minimal.nix ./ssh.nix ];
  boot.loader.systemd-boot.enable = true;
  fileSystems."/".fsType = "ext4";
}
