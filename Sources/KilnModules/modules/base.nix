# What every Kiln system has: systemd as PID 1 and the packages its boot and login need,
# and Kiln's boot defaults. (The options are declared by the modules in module-list.nix;
# root's account is config/users-groups.nix's.)
{ pkgs, lib, ... }:
{
  environment.systemPackages = with pkgs; [
    systemd udev util-linux login kmod bash coreutils dash hostname libpam-runtime libpam-modules libpam-systemd
  ];
  # A menu nobody waits for (NixOS: 5 s).
  boot.loader.timeout = lib.mkDefault 1;
  # A kernel panic reboots at once (QEMU tests see it as the machine stopping).
  boot.kernelParams = [ "panic=-1" ];
}
