# What nixos-generate-config imports for the hardware it could not detect (NixOS:
# nixos/modules/installer/scan/not-detected.nix): the firmware that hardware may need.
# Kept so that a hardware-configuration.nix from a NixOS machine evaluates unchanged.
{ lib, ... }:
{
  hardware.enableRedistributableFirmware = lib.mkDefault true;
}
