# programs.wireshark (NixOS: nixos/modules/programs/wireshark.nix): members of the wireshark
# group capture packets without root, through a dumpcap wrapper holding the two capabilities
# (what Debian's postinst does with setcap, when asked).
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.wireshark;
in
{
  options.programs.wireshark = {
    enable = lib.mkEnableOption "Wireshark, with capturing for the wireshark group";
    package = lib.mkOption { type = lib.types.package; default = pkgs.tshark; defaultText = lib.literalExpression "pkgs.tshark"; description = "The Wireshark package (pkgs.wireshark for the Qt interface; tshark is NixOS's wireshark-cli)."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package pkgs.wireshark-common ];
    users.groups.wireshark = { };
    security.wrappers.dumpcap = {
      source = "/run/current-system/sw/bin/dumpcap";
      capabilities = "cap_net_raw,cap_net_admin+eip";
      owner = "root";
      group = "wireshark";
      permissions = "u+rx,g+x";
    };
  };
}
