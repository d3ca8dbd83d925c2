# powerManagement.cpuFreqGovernor (NixOS: nixos/modules/tasks/cpu-freq.nix), which
# nixos-generate-config writes: the kernel's default cpufreq governor, set on its command
# line (cpufreq.default_governor, Linux 5.9 and later) instead of by a unit at boot.
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  governor = config.powerManagement.cpuFreqGovernor;
in
{
  options.powerManagement.cpuFreqGovernor = mkOption {
    type = types.nullOr (types.enum [ "performance" "powersave" "userspace" "ondemand" "conservative" "schedutil" ]);
    default = null;
    example = "ondemand";
    description = "The CPU frequency governor the kernel starts with; null: the kernel's default.";
  };
  config.boot.kernelParams = lib.mkIf (governor != null) [ "cpufreq.default_governor=${governor}" ];
}
