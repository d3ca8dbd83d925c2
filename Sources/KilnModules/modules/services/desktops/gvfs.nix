# services.gvfs (NixOS: nixos/modules/services/desktops/gvfs.nix): GIO's virtual file systems
# (trash, SMB and SFTP locations, mounted phones) for file managers such as Thunar. Its
# daemons are started by each user's session bus.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.gvfs;
in
{
  options.services.gvfs = {
    enable = lib.mkEnableOption "GVfs, the virtual file systems of GIO applications";
    package = lib.mkOption { type = lib.types.package; default = pkgs.gvfs; defaultText = lib.literalExpression "pkgs.gvfs"; description = "The GVfs package (Debian's gvfs-backends and gvfs-fuse come with it)."; };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package pkgs.gvfs-backends pkgs.gvfs-fuse ];
    services.udisks2.enable = lib.mkDefault true;
  };
}
