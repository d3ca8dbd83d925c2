# A live system on a hybrid ISO (NixOS: nixos/modules/installer/cd-dvd/iso-image.nix). Import
# it to build the configuration with `kiln build --format iso` (or an output named *.iso):
# the whole root goes into a zstd squashfs on the ISO, and stage 1 finds the medium by its
# volume label (kiln.live=LABEL on the kernel command line), mounts the squashfs read-only
# with a tmpfs over it (overlayfs), and starts the generation as on a disk. The ISO boots
# from a CD or a USB stick, on BIOS (x86_64) and UEFI, through GRUB.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.isoImage;
  architecture = builtins.head (lib.splitString "-" config.nixpkgs.hostPlatform);
  level =
    let m = builtins.match "zstd( +-Xcompression-level +([0-9]+))?" cfg.squashfsCompression;
    in if m == null then null else if builtins.elemAt m 1 == null then 15 else lib.toInt (builtins.elemAt m 1);
in
{
  options.isoImage = {
    volumeID = mkOption {
      type = types.str;
      default = "KILN_LIVE";
      description = ''
        The ISO 9660 volume label (at most 32 characters). Stage 1 and GRUB find the
        medium by it, so two different Kiln ISOs attached at once should not share it.
      '';
    };
    isoName = mkOption {
      type = types.str;
      default = let host = if config.networking.hostName == "" then "live" else config.networking.hostName;
        in "${lib.optionalString (!lib.hasPrefix "kiln" host) "kiln-"}${host}-${architecture}.iso";
      defaultText = lib.literalExpression ''"kiln-''${config.networking.hostName}-''${architecture}.iso" (no second "kiln-" when the host name has it)'';
      description = "The ISO's file name, as NixOS names it; `kiln build` writes where --output says.";
    };
    contents = mkOption {
      type = types.listOf (types.submodule {
        options.source = mkOption { type = types.path; description = "A file or folder on the build host."; };
        options.target = mkOption { type = types.str; description = "Its absolute path on the ISO."; };
      });
      default = [ ];
      example = lib.literalExpression ''[ { source = ./README.txt; target = "/README.txt"; } ]'';
      description = "Files copied onto the ISO, beside the live system (outside its squashfs).";
    };
    storeContents = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = ''
        Packages whose store paths go into the live system's store beside the system's own
        (not on its PATH): for example what an offline installation copies.
      '';
    };
    squashfsCompression = mkOption {
      type = types.str;
      default = "zstd -Xcompression-level 6";
      description = ''
        How the live root's squashfs is compressed, in mksquashfs's words. Kiln writes zstd
        only; NixOS's ISOs use "zstd -Xcompression-level 19" (smaller, several times slower
        to build).
      '';
    };
  };

  options.installer.system = mkOption {
    type = types.nullOr types.path;
    default = null;
    example = lib.literalExpression "./machine.nix";
    description = ''
      A profile whose disk image the ISO carries: evaluated, locked (beside it, as
      `kiln build` locks it) and built with the ISO's machine description when the ISO is
      built, and written to a disk on the machine by `kiln-install --disk DEVICE`.
    '';
  };

  config = {
    # What stage 1 needs to reach the medium: CD drives (IDE, AHCI, virtio-scsi), USB
    # sticks (xHCI, EHCI) and the filesystems of the ISO and its squashfs.
    boot.initrd.kernelModules = [ "cdrom" "sr_mod" "sd_mod" "isofs" "squashfs" "overlay" "loop" "virtio_scsi" "usb_storage" "uas" ]
      ++ lib.optionals (architecture == "x86_64") [ "ata_piix" "ahci" "xhci_pci" "ehci_pci" ]
      ++ lib.optionals (architecture == "aarch64") [ "xhci_pci" "xhci_plat_hcd" ];

    system.build.isoImagePlan = {
      inherit (cfg) volumeID isoName;
      contents = map (c: { source = toString c.source; inherit (c) target; }) cfg.contents;
      storeContents = map (p: p.pname) cfg.storeContents;
      zstdLevel = level;
    } // lib.optionalAttrs (config.installer.system != null) { installerSystem = toString config.installer.system; };

    assertions = [
      {
        assertion = builtins.stringLength cfg.volumeID <= 32 && cfg.volumeID != "";
        message = "isoImage.volumeID \"${cfg.volumeID}\" must have 1 to 32 characters (ISO 9660's limit).";
      }
      {
        assertion = level != null && level >= 1 && level <= 22;
        message = "isoImage.squashfsCompression is \"${cfg.squashfsCompression}\"; Kiln writes zstd only: \"zstd\" or \"zstd -Xcompression-level N\" with N from 1 to 22.";
      }
    ];
  };
}
