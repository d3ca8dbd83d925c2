# The ISO suite's installer: profiles/installer.nix as a user starts from it, carrying
# target.nix as the system kiln-install writes (built with the ISO, for the same --hardware).
{ ... }:
{
  imports = [ ../../../profiles/installer.nix ];
  installer.system = ./target.nix;
}
