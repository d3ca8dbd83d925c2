# The installer's configuration.nix and the hardware-configuration.nix nixos-generate-config
# writes, unchanged (Tests/nixos-configs/installer-default/).
{ ... }:
{
  imports = [ ../../nixos-configs/installer-default/configuration.nix ];
}
