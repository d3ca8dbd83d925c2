# boot.tmp (NixOS: nixos/modules/system/boot/tmp.nix): /tmp emptied at every boot, or a
# tmpfs. cleanOnBoot is the tmpfiles rule NixOS writes; useTmpfs is an fstab line. The names
# of NixOS before 23.05 (boot.cleanTmpDir, boot.tmpOnTmpfs) still work, with a warning.
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.boot.tmp;
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "boot" "cleanTmpDir" ] [ "boot" "tmp" "cleanOnBoot" ])
    (lib.mkRenamedOptionModule [ "boot" "tmpOnTmpfs" ] [ "boot" "tmp" "useTmpfs" ])
    (lib.mkRenamedOptionModule [ "boot" "tmpOnTmpfsSize" ] [ "boot" "tmp" "tmpfsSize" ])
  ];

  options.boot.tmp = {
    cleanOnBoot = mkOption { type = types.bool; default = false; description = "Whether /tmp is emptied when the machine boots."; };
    useTmpfs = mkOption { type = types.bool; default = false; description = "Whether /tmp is a tmpfs (in memory, empty at every boot)."; };
    tmpfsSize = mkOption { type = types.either types.str types.int; default = "50%"; example = "2G"; description = "The tmpfs's size: bytes, with a k, m or g suffix, or a percentage of memory."; };
  };

  config = lib.mkMerge [
    (lib.mkIf cfg.cleanOnBoot { systemd.tmpfiles.rules = [ "D! /tmp 1777 root root" ]; })
    (lib.mkIf cfg.useTmpfs {
      fileSystems."/tmp" = {
        device = "tmpfs";
        fsType = "tmpfs";
        options = [ "mode=1777" "strictatime" "rw" "nosuid" "nodev" "size=${toString cfg.tmpfsSize}" ];
      };
    })
  ];
}
