{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/cd-dvd/iso-image.nix") ];
  isoImage.squashfsCompression = "xz -Xdict-size 100%";
}
