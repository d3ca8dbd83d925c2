# system.stateVersion, as in NixOS: the release whose defaults stateful data was made with.
# Kiln has no per-release defaults yet; the value is informational.
{ lib, ... }:
{
  options.system.stateVersion = lib.mkOption {
    type = lib.types.str;
    default = "24.05";
    example = "23.11";
    description = "The NixOS release the configuration was first written for (informational in Kiln).";
  };
}
