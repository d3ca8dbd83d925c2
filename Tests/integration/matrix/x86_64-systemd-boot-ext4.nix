# Boot matrix: x86_64-systemd-boot-ext4 (built with --hardware hardware/qemu-x86_64.nix).
{ ... }:
{
  imports = [ ../../../profiles/minimal.nix ./ssh.nix ];
  boot.loader.systemd-boot.enable = true;
  fileSystems."/".fsType = "ext4";
}
