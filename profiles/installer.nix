# An installer ISO, NixOS's installation-cd-minimal for Kiln:
#   kiln build profiles/installer.nix --output installer.iso
# boots from a CD or USB stick (BIOS and UEFI) into a live system where root is logged in on
# the console with no password (SSH is off), and `kiln-install --disk /dev/vda` writes the
# system below onto a disk (it asks first; --yes does not). Point installer.system at your own
# profile to install that; its lock file is written beside it.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/cd-dvd/installation-cd-minimal.nix") ];
  installer.system = ./minimal.nix;
}
