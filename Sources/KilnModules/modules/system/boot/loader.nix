# The boot loader (NixOS: nixos/modules/system/boot/loader/{loader.nix,grub/grub.nix,
# systemd-boot/systemd-boot.nix}). Kiln installs it into the image it writes, never on the
# build host: GRUB for BIOS (into the image's MBR and BIOS boot partition) unless
# boot.loader.grub.device is "nodev", GRUB for UEFI with boot.loader.grub.efiSupport, or
# systemd-boot. Which firmware the machine has is hardware.firmware (modules/system/kiln.nix).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.boot.loader;
in
{
  options.boot.loader = {
    timeout = mkOption {
      type = types.nullOr types.int;
      default = 5;
      description = "Seconds the boot menu waits before booting the default entry; null waits for a key.";
    };
    grub = {
      enable = mkOption {
        type = types.bool;
        default = !cfg.systemd-boot.enable;
        defaultText = lib.literalExpression "!config.boot.loader.systemd-boot.enable";
        description = "Whether to boot with GRUB.";
      };
      efiSupport = mkOption {
        type = types.bool;
        default = false;
        description = "Whether GRUB is also installed for UEFI (on the EFI system partition).";
      };
      device = mkOption {
        type = types.str;
        default = "nodev";
        example = "/dev/vda";
        description = ''
          The disk whose MBR gets GRUB's BIOS boot code, or "nodev" for no BIOS boot. Kiln
          writes the image, so any other value means "the image's disk"; the hardware file
          sets the default (hardware/qemu-x86_64.nix: "/dev/vda").
        '';
      };
      devices = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = ''
          Disks to install GRUB's BIOS boot code on (NixOS). Kiln writes one disk: a
          non-empty list means BIOS boot, as boot.loader.grub.device does.
        '';
      };
      configurationLimit = mkOption {
        type = types.int;
        default = 100;
        description = "Most generations in the boot menu's list (the newest).";
      };
    };
    systemd-boot = {
      enable = mkOption {
        type = types.bool;
        default = false;
        description = "Whether to boot with systemd-boot (UEFI only).";
      };
      configurationLimit = mkOption {
        type = types.nullOr types.int;
        default = null;
        description = "Most generations with a boot entry (the newest); null: all.";
      };
    };
    efi = {
      canTouchEfiVariables = mkOption {
        type = types.bool;
        default = false;
        description = "Whether installing may change the firmware's boot entries (accepted, ignored: Kiln writes images, not firmware variables).";
      };
      efiSysMountPoint = mkOption {
        type = types.str;
        default = "/boot";
        description = "Where the EFI system partition is mounted (accepted; Kiln's images mount it at /boot).";
      };
    };
  };

  config = {
    boot.loader.grub.device = lib.mkIf (cfg.grub.devices != [ ]) (lib.mkOverride 900 (builtins.head cfg.grub.devices));
    assertions = [
      {
        assertion = !(cfg.grub.enable && cfg.systemd-boot.enable);
        message = "Both boot.loader.grub.enable and boot.loader.systemd-boot.enable are true; set boot.loader.grub.enable = false.";
      }
      {
        assertion = cfg.grub.enable || cfg.systemd-boot.enable;
        message = "No boot loader: enable boot.loader.grub or boot.loader.systemd-boot.";
      }
      {
        assertion = !cfg.grub.enable || cfg.grub.device != "nodev" || cfg.grub.efiSupport;
        message = "GRUB is enabled with boot.loader.grub.device = \"nodev\" and no boot.loader.grub.efiSupport: nothing could boot it.";
      }
    ];
  };
}
