# The ISO suite's arm64 live system: the shipped profiles/installer.nix with no system to
# install, which keeps the image (and the suite) small; the x86_64 ISO covers kiln-install.
{ lib, ... }:
{
  imports = [ ../../../profiles/installer.nix ];
  installer.system = lib.mkForce null;
}
