{ ... }:
{
  # What nixos-generate-config writes for a container under a mounted filesystem.
  boot.initrd.luks.devices."luks-0b3c7a52-1f6e-4d2b-9c8a-5e4f3a2b1c0d".device = "/dev/disk/by-uuid/0b3c7a52-1f6e-4d2b-9c8a-5e4f3a2b1c0d";
  boot.initrd.luks.devices.data = {
    device = "/dev/disk/by-partlabel/data";
    keyFile = "/dev/disk/by-id/usb-key";
    keyFileSize = 4096;
    keyFileOffset = 512;
    keyFileTimeout = 5;
    allowDiscards = true;
    bypassWorkqueues = true;
    header = "/root/data-header.img";
    tryEmptyPassphrase = true;
    crypttabExtraOpts = [ "tpm2-device=auto" ];
  };
  # A device of stage 2 written by hand, as NixOS users do: kept beside the generated lines.
  environment.etc.crypttab.text = "scratch /dev/vdc /dev/urandom swap,cipher=aes-xts-plain64,size=256\n";
  boot.initrd.luks.mitigateDMAAttacks = false;
}
