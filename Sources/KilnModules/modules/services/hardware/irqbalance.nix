# services.irqbalance (NixOS: nixos/modules/services/hardware/irqbalance.nix): spreads
# hardware interrupts over the CPUs. Debian's unit runs only with more than one CPU.
{ config, lib, pkgs, ... }:
{
  options.services.irqbalance.enable = lib.mkEnableOption "irqbalance";

  config = lib.mkIf config.services.irqbalance.enable {
    environment.systemPackages = [ pkgs.irqbalance ];
    systemd.services.irqbalance = { overrideStrategy = "asDropin"; wantedBy = [ "multi-user.target" ]; };
  };
}
