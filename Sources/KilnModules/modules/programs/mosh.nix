# programs.mosh (NixOS: nixos/modules/programs/mosh.nix): the mobile shell. mosh-server is
# started over SSH and then talks UDP, on a port of 60000–61000, which the firewall opens.
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.mosh;
in
{
  options.programs.mosh = {
    enable = lib.mkEnableOption "mosh, the mobile shell";
    openFirewall = lib.mkOption { type = lib.types.bool; default = true; description = "Whether UDP ports 60000–61000 are opened for mosh-server."; };
    withUtempter = lib.mkOption { type = lib.types.bool; default = true; description = "Whether sessions are recorded in utmp (Debian's mosh always uses libutempter)."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.mosh ];
    networking.firewall.allowedUDPPortRanges = lib.mkIf cfg.openFirewall [ { from = 60000; to = 61000; } ];
  };
}
