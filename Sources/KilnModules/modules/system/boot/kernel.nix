# The kernel's command line and modules (as NixOS's nixos/modules/system/boot/kernel.nix).
#
# Kiln's stage 2 has no /lib/modules: the initrd loads every kernel module the system uses
# (closed over modules.dep). So boot.kernelModules, boot.initrd.kernelModules and
# boot.initrd.availableKernelModules all end up loaded in stage 1; a module that a service
# needs (nftables' nf_tables, a network card's driver) must be listed in one of them. The
# kernel package itself is boot.kernelPackage (modules/system/kiln.nix).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep isBool toString;
  cfg = config.boot;
  sysctlValue = v: if isBool v then (if v then "1" else "0") else toString v;
in
{
  options.boot = {
    kernelParams = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "quiet" ];
      description = "Parameters added to the kernel command line (after root= and init=).";
    };
    kernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "kvm-intel" ];
      description = ''
        Kernel modules loaded at boot. Kiln loads them in stage 1 (the initrd), after
        boot.initrd.kernelModules, since stage 2 has no /lib/modules.
      '';
    };
    initrd.kernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = ''
        Kernel modules the initrd loads, in this order (each after its modules.dep
        dependencies). The root filesystem's modules are added for fileSystems."/".fsType.
      '';
    };
    initrd.availableKernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "virtio_pci" "ahci" "nvme" ];
      description = ''
        Kernel modules the initrd may need (NixOS: included and loaded on demand). Kiln's
        initrd has no udev to load on demand, so these are loaded like
        boot.initrd.kernelModules, before them. A module the kernel of the target does not
        have fails the build.
      '';
    };
    kernel.sysctl = mkOption {
      type = types.attrsOf (types.nullOr (types.oneOf [ types.str types.int types.bool ]));
      default = { };
      example = { "net.ipv4.ip_forward" = 1; };
      description = "Kernel parameters set at boot by systemd-sysctl (/etc/sysctl.d/60-kiln.conf); null leaves one unset.";
    };
  };

  config = lib.mkMerge [
    { boot.initrd.kernelModules = lib.mkBefore cfg.initrd.availableKernelModules; }
    (lib.mkIf (lib.filterAttrs (n: v: v != null) cfg.kernel.sysctl != { }) {
      environment.etc."sysctl.d/60-kiln.conf".text = concatStringsSep "" (map (k: "${k} = ${sysctlValue cfg.kernel.sysctl.${k}}\n")
        (builtins.filter (k: cfg.kernel.sysctl.${k} != null) (attrNames cfg.kernel.sysctl)));
    })
  ];
}
