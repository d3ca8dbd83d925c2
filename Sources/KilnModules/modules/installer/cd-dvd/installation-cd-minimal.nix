# A minimal installer ISO (NixOS: installation-cd-minimal.nix): a live system with root
# logged in on the console (tty1 and the serial console) with no password, as NixOS's
# installer is, the tools to partition and format disks, SSH off (set
# services.openssh.enable and a key to reach it over the network), and kiln-install, which
# writes `installer.system` onto a disk. Anyone at the console is root: that is the point of
# an installer, and why SSH stays off unless you turn it on.
{ lib, pkgs, ... }:
{
  imports = [ ./iso-image.nix ];

  networking.hostName = lib.mkDefault "kiln-installer";
  users.users.root.initialPassword = lib.mkDefault "";
  services.getty.autologinUser = lib.mkDefault "root";
  services.openssh.enable = lib.mkDefault false;

  environment.systemPackages = with pkgs; [
    bash coreutils util-linux gdisk parted dosfstools e2fsprogs btrfs-progs cloud-guest-utils zstd
    less procps iproute2 kmod systemd-sysv
  ];
}
