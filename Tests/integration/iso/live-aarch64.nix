# The ISO suite's arm64 live system: profiles/installer.nix alone, with no system to
# install, which keeps the image (and the suite) small; the x86_64 ISO covers kiln-install.
{ ... }:
{
  imports = [ ../../../profiles/installer.nix ];
}
