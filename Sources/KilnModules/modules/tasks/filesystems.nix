# fileSystems and swapDevices (NixOS: nixos/modules/tasks/filesystems.nix, config/swap.nix).
# Kiln writes the root filesystem ("/": ext4 or btrfs) into the image and the initrd mounts
# it by the image's UUID, so only its fsType matters; the ESP is the image's too (see isESP).
# Every other entry becomes a line of /etc/fstab, which systemd mounts at boot; the root's
# line is Kiln's to add (it knows the UUID). A swap file with a size is made at boot when
# missing.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames attrValues concatStringsSep filter elem sort;
  slib = import ../system/boot/systemd-lib.nix { inherit lib; };

  fsOptions = { name, config, ... }: {
    options = {
      mountPoint = mkOption {
        type = types.str;
        default = name;
        defaultText = lib.literalExpression "<name>";
        description = "Where the filesystem is mounted.";
      };
      device = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/dev/disk/by-uuid/...";
        description = "The device (or remote share) mounted; null: the one with `label`.";
      };
      label = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The filesystem's label, for a device given as LABEL=<label>.";
      };
      fsType = mkOption {
        type = types.str;
        default = "auto";
        example = "ext4";
        description = "The filesystem's type (Kiln writes the root as ext4 or btrfs).";
      };
      options = mkOption {
        type = types.listOf types.str;
        default = [ "defaults" ];
        example = [ "noatime" ];
        description = "Mount options.";
      };
      neededForBoot = mkOption {
        type = types.bool;
        default = false;
        description = "Whether the initrd mounts it (accepted; Kiln's initrd mounts only the root).";
      };
      noCheck = mkOption {
        type = types.bool;
        default = false;
        description = "Whether fsck is skipped for it.";
      };
      autoFormat = mkOption {
        type = types.bool;
        default = false;
        description = "Whether an empty device is formatted (accepted, ignored).";
      };
      autoResize = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Whether the filesystem grows to fill its device at boot (ext4 and btrfs, online, with
          systemd-growfs). With boot.growPartition the root's partition grows first.
        '';
      };
    };
  };

  swapOptions = { config, ... }: {
    options = {
      device = mkOption {
        type = types.str;
        example = "/var/swapfile";
        description = "The swap device or file.";
      };
      label = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The swap area's label, used instead of device when set.";
      };
      size = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        description = "The size in MiB of a swap file Kiln makes at boot when it is missing; null: the device exists.";
      };
      priority = mkOption {
        type = types.nullOr (types.ints.between 0 32767);
        default = null;
        description = "The swap area's priority.";
      };
      options = mkOption {
        type = types.listOf types.str;
        default = [ "defaults" ];
        description = "Options of the fstab line.";
      };
    };
  };

  escape = builtins.replaceStrings [ " " "\t" ] [ "\\040" "\\011" ];
  fsckTypes = [ "ext2" "ext3" "ext4" "vfat" "xfs" ];
  # The ESP (efiSysMountPoint, vfat) is the image's own, which Kiln writes and, for
  # systemd-boot, mounts itself: a hardware-configuration.nix's line for it names another
  # machine's partition.
  isESP = fs: fs.mountPoint == config.boot.loader.efi.efiSysMountPoint && fs.fsType == "vfat";
  others = filter (fs: fs.mountPoint != "/" && !isESP fs) (attrValues config.fileSystems);
  # Parents before children.
  sorted = sort (a: b: a.mountPoint < b.mountPoint) others;
  deviceOf = fs: if fs.device != null then fs.device else "LABEL=${fs.label}";
  fsLine = fs: "${escape (deviceOf fs)} ${escape fs.mountPoint} ${fs.fsType} ${concatStringsSep "," (fs.options ++ lib.optional fs.autoResize "x-systemd.growfs")} 0 ${if fs.noCheck || !elem fs.fsType fsckTypes then "0" else "2"}";
  swapLine = s: "${escape (if s.label != null then "LABEL=${s.label}" else s.device)} none swap ${concatStringsSep "," (s.options ++ lib.optional (s.priority != null) "pri=${toString s.priority}")} 0 0";
  swapFiles = filter (s: s.size != null) config.swapDevices;

  # The Debian packages with each file system's mkfs, fsck and mount helpers; the kernel
  # has the drivers. ZFS is not in Debian's main archive (only as contrib's DKMS module).
  fsTools = {
    btrfs = [ "btrfs-progs" ]; xfs = [ "xfsprogs" ]; ext2 = [ "e2fsprogs" ]; ext3 = [ "e2fsprogs" ]; ext4 = [ "e2fsprogs" ];
    vfat = [ "dosfstools" ]; exfat = [ "exfatprogs" ]; ntfs = [ "ntfs-3g" ]; ntfs3 = [ ]; f2fs = [ "f2fs-tools" ];
    nfs = [ "nfs-common" ]; nfs4 = [ "nfs-common" ]; cifs = [ "cifs-utils" ]; squashfs = [ "squashfs-tools" ];
    iso9660 = [ ]; udf = [ "udftools" ]; fuse = [ "fuse3" ]; sshfs = [ "sshfs" ];
  };
  supported = let s = config.boot.supportedFilesystems; in
    if builtins.isList s then s else filter (n: s.${n}) (attrNames s);
  unsupported = filter (n: !(fsTools ? ${n})) supported;
in
{
  options = {
    boot.supportedFilesystems = mkOption {
      type = types.either (types.listOf types.str) (types.attrsOf types.bool);
      default = [ ];
      example = [ "ntfs" "exfat" ];
      description = "File systems the machine should create, check and mount besides its own: their Debian tools are installed (ntfs: ntfs-3g, exfat: exfatprogs …).";
    };
    fileSystems = mkOption {
      type = types.attrsOf (types.submodule fsOptions);
      default = { };
      example = lib.literalExpression ''{ "/data" = { device = "/dev/vdb1"; fsType = "ext4"; }; }'';
      description = "The filesystems, by mount point. \"/\" is the image's root filesystem.";
    };
    swapDevices = mkOption {
      type = types.listOf (types.submodule swapOptions);
      default = [ ];
      example = [ { device = "/var/swapfile"; size = 1024; } ];
      description = "Swap devices and files.";
    };
  };

  config = {
    fileSystems."/".fsType = lib.mkDefault "ext4";
    environment.systemPackages = map (n: pkgs.${n}) (lib.unique (lib.concatMap (n: fsTools.${n} or [ ]) supported));

    environment.etc."fstab".text = ''
      # Generated by Kiln from fileSystems and swapDevices.
    '' + concatStringsSep "" (map (fs: fsLine fs + "\n") sorted)
       + concatStringsSep "" (map (s: swapLine s + "\n") config.swapDevices);

    assertions = map (fs: {
      assertion = fs.mountPoint == "/" || fs.device != null || fs.label != null;
      message = "fileSystems.\"${fs.mountPoint}\" needs a device or a label.";
    }) (attrValues config.fileSystems)
    ++ map (fs: {
      assertion = lib.hasPrefix "/" fs.mountPoint;
      message = "fileSystems.\"${fs.mountPoint}\": the mount point must be an absolute path.";
    }) (attrValues config.fileSystems)
    ++ [ {
      assertion = unsupported == [ ];
      message = "boot.supportedFilesystems: ${concatStringsSep ", " unsupported}: not a file system Kiln knows the Debian tools of"
        + lib.optionalString (elem "zfs" unsupported) " (ZFS is not in Debian's main archive, and Kiln builds no DKMS modules)" + ".";
    } {
      assertion = elem config.fileSystems."/".fsType [ "ext4" "btrfs" ];
      message = "fileSystems.\"/\".fsType is \"${config.fileSystems."/".fsType}\"; Kiln writes ext4 and btrfs root filesystems.";
    } ];

    systemd.services = lib.listToAttrs (map (s:
      let unit = "${slib.escapeSystemdPath s.device}.swap"; in
      lib.nameValuePair "mkswap-${slib.escapeSystemdPath s.device}" {
        description = "Swap file ${s.device}";
        wantedBy = [ unit ];
        before = [ unit ];
        unitConfig.DefaultDependencies = false;
        after = [ "local-fs.target" ];
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
        script = ''
          file=${lib.escapeShellArg s.device}
          if [ ! -e "$file" ]; then
            mkdir -p "$(dirname "$file")"
            umask 077
            fallocate -l ${toString s.size}M "$file" || dd if=/dev/zero of="$file" bs=1M count=${toString s.size} status=none
            chmod 0600 "$file"
            mkswap "$file"
          fi
        '';
      }) swapFiles);
  };
}
