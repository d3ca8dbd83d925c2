# The plan: everything Kiln's Swift side reads of an evaluated configuration, as one
# attribute set shaped like its `SystemPlan` type (Sources/KilnPlan/SystemPlan.swift), which
# decodes it. What is valid is decided here and by the modules' assertions, once; Swift only
# decodes. (NixOS's counterpart is system.build.toplevel with its bootspec.)
{ config, lib, options, extendModules, ... }:
let
  inherit (builtins) attrNames attrValues elem filter foldl' head isString map sort stringLength substring;
  loader = config.boot.loader;
  platform = config.nixpkgs.hostPlatform;
  architecture = head (lib.splitString "-" platform);
  firmware = config.hardware.firmware;
  grubBIOS = loader.grub.device != "nodev";

  bootLoader =
    if loader.systemd-boot.enable then { kind = "systemd-boot"; }
    else {
      kind = "grub";
      platforms = if grubBIOS && loader.grub.efiSupport then "bios+uefi" else if grubBIOS then "bios" else "uefi";
    };
  bootsBIOS = bootLoader.kind == "grub" && grubBIOS;
  bootsUEFI = bootLoader.kind == "systemd-boot" || loader.grub.efiSupport;

  # "0644" -> 420: an /etc file's mode (etc.nix asserts the form).
  octal = s: foldl' (n: c: n * 8 + lib.toInt c) 0 (lib.stringToCharacters s);
  nonNull = lib.filterAttrs (n: v: v != null);
  filesOf = opt: lib.concatStringsSep ", " (map toString opt.files);

  user = u: nonNull {
    inherit (u) name uid group home shell isNormalUser isSystemUser createHome description extraGroups
      initialPassword hashedPassword hashedPasswordFile;
  };
  group = g: nonNull { inherit (g) name gid members; };
  etcFile = name: e: nonNull {
    path = e.target;
    inherit (e) text source user group;
    mode = if e.mode == "symlink" then 420 else octal e.mode;
  };
  enabledEtc = lib.filterAttrs (n: e: e.enable) config.environment.etc;

  packages = import ../package-requests.nix lib options.environment.systemPackages;

  # A variant: this configuration plus its module (and no variants of its own), checked.
  variant = name: s:
    let v = (extendModules { modules = [ s.configuration { specialisation = lib.mkForce { }; } ]; }).config;
    in lib.checkAssertWarn v.assertions v.warnings v.system.build.plan;
in
{
  options.system.build.isoImagePlan = lib.mkOption {
    internal = true;
    default = null;
    description = "The ISO settings of the plan, set by installer/cd-dvd/iso-image.nix when a configuration imports it.";
  };

  options.system.build.plan = lib.mkOption {
    internal = true;
    readOnly = true;
    description = "What Kiln builds from this configuration (the Swift side's SystemPlan).";
  };

  config = {
    system.build.plan = {
      hostName = config.networking.hostName;
      inherit architecture firmware bootLoader;
      # null (wait for a key) is not offered yet: a built image must boot unattended.
      bootLoaderTimeout = if loader.timeout == null then 1 else loader.timeout;
      # How many generations the boot menu lists (the newest; null: all).
      bootLoaderLimit = if bootLoader.kind == "grub" then loader.grub.configurationLimit else loader.systemd-boot.configurationLimit;
      rootFilesystem = config.fileSystems."/".fsType;
      kernel = {
        package = config.boot.kernelPackage.pname;
        params = config.boot.kernelParams;
        initrdModules = lib.unique (config.boot.initrd.availableKernelModules ++ config.boot.initrd.kernelModules);
        # Loaded in stage 2: they must be in the module tree, whatever modulesTree says.
        modules = config.boot.kernelModules;
        modulesTree = config.boot.kernelModulesTree;
        console = config.boot.console;
      };
      users = map (n: user config.users.users.${n}) (sort (a: b: a < b) (attrNames config.users.users));
      mutableUsers = config.users.mutableUsers;
      groups = map (n: group config.users.groups.${n}) (sort (a: b: a < b) (attrNames config.users.groups));
      etc = lib.mapAttrsToList etcFile enabledEtc;
      inherit packages;
      # What pkgs.writeShellScriptBin & co. made, linked into the system path like packages.
      systemObjects = lib.unique (map (p: p.kilnWrittenObject)
        (builtins.filter (p: builtins.isAttrs p && p ? kilnWrittenObject) config.environment.systemPackages));
      imageFormats = config.image.formats;
      specialisations = lib.mapAttrs variant config.specialisation;
    } // lib.optionalAttrs (config.system.build.isoImagePlan != null) { isoImage = config.system.build.isoImagePlan; };

    assertions = [
      {
        assertion = firmware != [ ];
        message = "hardware.firmware is empty (set in ${filesOf options.hardware.firmware}); list \"bios\" and/or \"uefi\".";
      }
      {
        assertion = !(bootLoader.kind == "grub" && grubBIOS && architecture != "x86_64");
        message = "boot.loader.grub.device is set for BIOS boot, which only x86_64 has; on ${platform} set it to \"nodev\" with boot.loader.grub.efiSupport = true.";
      }
      {
        assertion = !bootsBIOS || elem "bios" firmware;
        message = "GRUB is set up for BIOS (boot.loader.grub.device is not \"nodev\") but hardware.firmware is [ ${toString firmware} ] (set in ${filesOf options.hardware.firmware}).";
      }
      {
        assertion = !bootsUEFI || elem "uefi" firmware;
        message = "The boot loader needs UEFI but hardware.firmware is [ ${toString firmware} ] (set in ${filesOf options.hardware.firmware}).";
      }
    ];
  };
}
