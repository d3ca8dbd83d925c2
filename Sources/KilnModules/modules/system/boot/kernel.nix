# The kernel's command line and modules (as NixOS's nixos/modules/system/boot/kernel.nix).
#
# Stage 1 (the initrd, which has no udev) loads boot.initrd.availableKernelModules and
# boot.initrd.kernelModules, in that order, closed over their dependencies: what it needs
# to reach the root filesystem. The running system has the kernel's module tree
# (/lib/modules/<version>, with depmod's indexes, as NixOS's system.modulesTree), so udev
# loads the driver of every device it finds by its modalias, the kernel's request_module
# finds modprobe, and systemd-modules-load loads boot.kernelModules
# (/etc/modules-load.d/kiln.conf). boot.kernelModulesTree lets a machine description carry
# only the part of the tree that machine can use. The kernel package itself is
# boot.kernelPackage (modules/system/kiln.nix).
{ config, lib, options, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep isBool toString;
  cfg = config.boot;
  sysctlValue = v: if isBool v then (if v then "1" else "0") else toString v;
in
{
  options.boot = {
    kernelPackages = mkOption {
      type = types.nullOr types.raw;
      default = null;
      example = lib.literalExpression "pkgs.linuxPackages_latest";
      description = ''
        nixpkgs' kernel set (linuxPackages_latest, linuxPackages_6_6 …). Kiln boots Debian's
        kernel, boot.kernelPackage, so a set named here is accepted and named in a warning.
      '';
    };
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
      description = "Kernel modules loaded in stage 2 by systemd-modules-load (/etc/modules-load.d/kiln.conf).";
    };
    kernelModulesTree = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      example = [ "drivers/virtio" "drivers/net/virtio_net.ko" "fs" ];
      description = ''
        The part of the kernel's module tree the running system carries: paths below
        lib/modules/<version>/kernel/ (a folder takes everything under it) or module names.
        null carries the whole tree (generic machines: installers, real hardware). The
        modules named by boot.kernelModules, boot.initrd.* and the root filesystem, and every
        module these depend on, are always in.
      '';
    };
    extraModulePackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Packages of out-of-tree kernel modules (nixos-generate-config writes [ ]; Kiln takes none yet and says so).";
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
    initrd.includeDefaultModules = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the initrd carries the machine's storage drivers (accepted; the machine description lists them).";
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
    (lib.mkIf (cfg.kernelPackages != null) {
      warnings = [ "boot.kernelPackages (${lib.concatStringsSep ", " (map toString options.boot.kernelPackages.files)}): Kiln boots Debian's kernel (boot.kernelPackage = pkgs.${config.boot.kernelPackage.pname or "linux-image-amd64"}); nixpkgs' kernel sets are not in Debian, so this does nothing." ];
    })
    {
      assertions = [{
        assertion = cfg.extraModulePackages == [ ];
        message = "boot.extraModulePackages lists ${toString (map (p: p.pname or p.name) cfg.extraModulePackages)}: Kiln cannot add out-of-tree kernel modules yet (Debian's *-dkms packages build at install time). Remove them, or use a module of the kernel's own tree in boot.kernelModules.";
      }];
    }
    (lib.mkIf (cfg.kernelModules != [ ]) {
      environment.etc."modules-load.d/kiln.conf".text = concatStringsSep "" (map (m: m + "\n") cfg.kernelModules);
    })
    (lib.mkIf (lib.filterAttrs (n: v: v != null) cfg.kernel.sysctl != { }) {
      environment.etc."sysctl.d/60-kiln.conf".text = concatStringsSep "" (map (k: "${k} = ${sysctlValue cfg.kernel.sysctl.${k}}\n")
        (builtins.filter (k: cfg.kernel.sysctl.${k} != null) (attrNames cfg.kernel.sysctl)));
    })
  ];
}
