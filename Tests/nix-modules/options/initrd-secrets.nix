{ ... }:
{
  # What NixOS's graphical installer writes for an encrypted swap opened with a key file.
  boot.initrd.secrets = {
    "/crypto_keyfile.bin" = null;
  };
  boot.initrd.luks.devices."luks-5d8a3c1e-7b2f-4e9a-8c6d-1f0e2d3c4b5a".device = "/dev/disk/by-uuid/5d8a3c1e-7b2f-4e9a-8c6d-1f0e2d3c4b5a";
  boot.initrd.luks.devices."luks-5d8a3c1e-7b2f-4e9a-8c6d-1f0e2d3c4b5a".keyFile = "/crypto_keyfile.bin";
}
