# services.qemuGuest (NixOS: nixos/modules/virtualisation/qemu-guest-agent.nix): the agent a
# hypervisor talks to (Proxmox, libvirt: shutdown, freeze for snapshots, addresses). Debian's
# unit is bound to the agent's virtio port and its udev rule starts it when the port appears,
# so installing it is the whole of enabling it.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.qemuGuest;
in
{
  options.services.qemuGuest = {
    enable = lib.mkEnableOption "the QEMU guest agent";
    package = lib.mkOption { type = lib.types.package; default = pkgs.qemu-guest-agent; defaultText = lib.literalExpression "pkgs.qemu-guest-agent"; description = "The agent's package."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
  };
}
