{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/cd-dvd/iso-image.nix") ];
  isoImage.volumeID = "A-VOLUME-LABEL-FAR-LONGER-THAN-32-CHARACTERS";
}
