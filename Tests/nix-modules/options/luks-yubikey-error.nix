{ ... }:
{
  boot.initrd.luks.devices.root = {
    device = "/dev/disk/by-uuid/0b3c7a52-1f6e-4d2b-9c8a-5e4f3a2b1c0d";
    yubikey = { slot = 2; twoFactor = true; };
    preOpenCommands = "mount /dev/sda1 /keys";
  };
}
