# The ISO suite's installer: the shipped profiles/installer.nix, as a user starts from it,
# with target.nix as the system kiln-install writes (built with the ISO, for the same
# --hardware) instead of the profile's minimal.nix.
{ lib, ... }:
{
  imports = [ ../../../profiles/installer.nix ];
  installer.system = lib.mkForce ./target.nix;
}
