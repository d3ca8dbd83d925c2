# The missing import must be reported against this file, not Kiln's lib/modules.nix.
{ pkgs, ... }:
{
  imports = [
    ./users.nix
    ./missing.nix
  ];
}
