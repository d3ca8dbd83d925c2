# Options only Kiln has: what it builds for and how the machine boots. The hardware files
# (hardware/*.nix) set them.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  aarch64 = config.nixpkgs.hostPlatform == "aarch64-linux";
in
{
  options = {
    nixpkgs.hostPlatform = mkOption {
      type = types.enum [ "x86_64-linux" "aarch64-linux" ];
      default = "x86_64-linux";
      description = "The system the image is for; it picks the Debian architecture (amd64, arm64).";
    };
    hardware.firmware = mkOption {
      # NixOS's hardware.firmware is a list of firmware packages; Kiln's names the machine's
      # boot firmware, which the boot loader options are checked against.
      type = types.listOf (types.enum [ "bios" "uefi" ]);
      default = if aarch64 then [ "uefi" ] else [ "bios" "uefi" ];
      defaultText = lib.literalExpression ''if aarch64 then [ "uefi" ] else [ "bios" "uefi" ]'';
      description = "The boot firmware the machine has (Kiln-specific; not NixOS's list of firmware packages).";
    };
    boot.console = mkOption {
      type = types.str;
      default = if aarch64 then "ttyAMA0" else "ttyS0";
      defaultText = lib.literalExpression ''if aarch64 then "ttyAMA0" else "ttyS0"'';
      description = "The serial console device: where the boot loader's menu and test logs go.";
    };
    boot.kernelPackage = mkOption {
      type = types.package;
      default = if aarch64 then pkgs.linux-image-arm64 else pkgs.linux-image-amd64;
      defaultText = lib.literalExpression "pkgs.linux-image-amd64 (pkgs.linux-image-arm64 on aarch64)";
      description = ''
        The Debian kernel image package. Only its kernel goes into the image; the initrd
        carries the modules the system loads (see boot.kernelModules).
      '';
    };
  };
}
