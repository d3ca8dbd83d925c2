# boot.initrd.luks (NixOS: nixos/modules/system/boot/luksroot.nix). nixos-generate-config
# writes a `boot.initrd.luks.devices."luks-<uuid>".device` for every LUKS container under a
# mounted filesystem, so a laptop's hardware-configuration.nix has one.
#
# Kiln writes the image's root itself, unencrypted, and its stage 1 mounts only that root. So
# the devices are opened in stage 2, as NixOS opens the ones of environment.etc.crypttab: the
# same crypttab lines NixOS's systemd stage 1 makes (stage1Crypttab) go to /etc/crypttab, and
# systemd-cryptsetup-generator (Debian's systemd) makes a systemd-cryptsetup@<name> unit of
# each, which asks for the passphrase on the console when there is no key file. Each line
# is `nofail`: a device that is not there (the disk of the machine the configuration was
# generated on, the container that held its root) is skipped instead of holding the boot
# for 90 s, and a filesystem on one can be mounted from fileSystems with `nofail` too.
{ config, lib, pkgs, options, ... }:
let
  inherit (lib) types mkOption;
  luks = config.boot.initrd.luks;
  opt = options.boot.initrd.luks.devices;

  crypttabLine = name: v:
    let
      opts = v.crypttabExtraOpts
        ++ lib.optional v.allowDiscards "discard"
        ++ lib.optionals v.bypassWorkqueues [ "no-read-workqueue" "no-write-workqueue" ]
        ++ lib.optional (v.header != null) "header=${v.header}"
        ++ lib.optional (v.keyFileOffset != null) "keyfile-offset=${toString v.keyFileOffset}"
        ++ lib.optional (v.keyFileSize != null) "keyfile-size=${toString v.keyFileSize}"
        ++ lib.optional (v.keyFileTimeout != null) "keyfile-timeout=${toString v.keyFileTimeout}s"
        ++ lib.optional v.tryEmptyPassphrase "try-empty-password=true"
        ++ [ "nofail" ];
    in "${v.name} ${v.device} ${if v.keyFile == null then "-" else v.keyFile} ${lib.concatStringsSep "," opts}";

  # What Kiln cannot do in stage 2 with Debian's tools, by device.
  unsupported = lib.concatLists (lib.mapAttrsToList (n: v:
    lib.optional (v.yubikey != null) "boot.initrd.luks.devices.${n}.yubikey (YubiKey challenge-response needs NixOS's stage 1 tools)"
    ++ lib.optional (v.gpgCard != null) "boot.initrd.luks.devices.${n}.gpgCard (a GPG smartcard needs NixOS's stage 1 tools)"
    ++ lib.optional (v.fido2.credential != null || v.fido2.credentials != [ ]) "boot.initrd.luks.devices.${n}.fido2 (fido2luks is not in Debian; systemd-cryptenroll --fido2-device with crypttabExtraOpts = [ \"fido2-device=auto\" ] is)"
    ++ lib.optional (v.preOpenCommands != "" || v.postOpenCommands != "") "boot.initrd.luks.devices.${n}.preOpenCommands/postOpenCommands (stage 1 shell hooks; Kiln opens the device in stage 2)"
  ) luks.devices);
in
{
  # NixOS's stage 1 copies these into the initrd, mostly for a LUKS key file (the graphical
  # installer writes `"/crypto_keyfile.bin" = null;`). Kiln opens LUKS devices in stage 2,
  # where the file is read where it is on the root; a file copied from the build host would
  # sit readable in the image file and in its store, so Kiln copies none.
  options.boot.initrd.secrets = mkOption {
    type = types.attrsOf (types.nullOr types.path);
    default = { };
    example = { "/crypto_keyfile.bin" = null; };
    description = ''
      Files NixOS puts in the initrd: the name is the path inside, the value the file copied
      (null: the same path on the machine). Kiln has no secrets in its initrd: null entries are
      read from the root filesystem by what opens the LUKS devices in stage 2 (a warning says
      so); an entry that names a file to copy is refused by an assertion.
    '';
  };

  options.boot.initrd.luks = {
    mitigateDMAAttacks = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether the FireWire drivers (firewire_ohci, firewire_core, firewire_sbp2), through which
        a device plugged in can read the memory holding the keys, are blacklisted when there
        are LUKS devices (/etc/modprobe.d/kiln-luks.conf).
      '';
    };
    cryptoModules = mkOption {
      type = types.listOf types.str;
      default = [ "aes_generic" "blowfish_generic" "twofish_generic" "serpent_generic" "cbc" "xts" "lrw"
                  "sha1_generic" "sha256_generic" "sha512_generic" "af_alg" "algif_skcipher" ];
      description = ''
        Kernel modules of the ciphers the devices use, loaded with dm_crypt in stage 2 (and so
        kept in a machine's module tree). NixOS's list, with the names Debian's kernel gives
        them; the ones built into it are skipped.
      '';
    };
    forceLuksSupportInInitrd = mkOption {
      type = types.bool;
      default = false;
      internal = true;
      description = "Whether dm_crypt and the cipher modules are loaded when no device is listed.";
    };
    reusePassphrases = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether a passphrase that opened one device is tried on the next. systemd-cryptsetup
        does this itself (it keeps the last passphrase in the kernel keyring), so this is
        accepted as is.
      '';
    };
    devices = mkOption {
      default = { };
      example = { luksroot.device = "/dev/disk/by-uuid/430e9eff-d852-4f68-aa3b-2fa3599ebe08"; };
      description = ''
        Encrypted (LUKS) devices to open, each as /dev/mapper/<name>. Kiln's root is the image's
        own and not encrypted, so they are opened after it, by systemd-cryptsetup from
        /etc/crypttab, and a missing one is skipped (nofail).
      '';
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          name = mkOption {
            type = types.str;
            default = name;
            visible = false;
            description = "Name of the opened device in /dev/mapper.";
          };
          device = mkOption {
            type = types.str;
            example = "/dev/disk/by-uuid/430e9eff-d852-4f68-aa3b-2fa3599ebe08";
            description = "Path of the encrypted block device.";
          };
          header = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/root/header.img";
            description = "A detached LUKS header (file or device) for the device.";
          };
          keyFile = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/dev/sdb1";
            description = "A file or device holding the key; null: the passphrase is asked for on the console.";
          };
          tryEmptyPassphrase = mkOption {
            type = types.bool;
            default = false;
            description = "Whether an empty passphrase is tried before asking for one.";
          };
          keyFileTimeout = mkOption {
            type = types.nullOr types.int;
            default = null;
            example = 5;
            description = "Seconds to wait for the key file's device before asking for the passphrase.";
          };
          keyFileSize = mkOption {
            type = types.nullOr types.int;
            default = null;
            example = 4096;
            description = "How many bytes of the key file are the key (null: all of it).";
          };
          keyFileOffset = mkOption {
            type = types.nullOr types.int;
            default = null;
            example = 4096;
            description = "Where in the key file the key starts (null: at its first byte).";
          };
          preLVM = mkOption {
            type = types.bool;
            default = true;
            description = "Whether the device is opened before LVM's scan (accepted: Kiln sets up no LVM).";
          };
          allowDiscards = mkOption {
            type = types.bool;
            default = false;
            description = "Whether TRIM requests pass through to the device (crypttab's discard).";
          };
          bypassWorkqueues = mkOption {
            type = types.bool;
            default = false;
            description = "Whether dm-crypt's read and write workqueues are bypassed (better on SSDs).";
          };
          fallbackToPassword = mkOption {
            type = types.bool;
            default = false;
            description = ''
              Whether the passphrase is asked for when the key file cannot be used (accepted:
              systemd-cryptsetup asks for it whenever the key file fails).
            '';
          };
          gpgCard = mkOption {
            type = types.nullOr types.attrs;
            default = null;
            description = "A GPG smartcard holding the passphrase (not in Kiln: an assertion says so).";
          };
          fido2 = {
            credential = mkOption {
              type = types.nullOr types.str;
              default = null;
              description = "fido2luks' credential ID (not in Kiln: an assertion says so).";
            };
            credentials = mkOption {
              type = types.listOf types.str;
              default = [ ];
              description = "fido2luks' credential IDs (not in Kiln: an assertion says so).";
            };
            gracePeriod = mkOption {
              type = types.int;
              default = 10;
              description = "Seconds to wait for the FIDO2 key.";
            };
            passwordLess = mkOption {
              type = types.bool;
              default = false;
              description = "Whether an empty salt is used with the FIDO2 key.";
            };
          };
          yubikey = mkOption {
            type = types.nullOr types.attrs;
            default = null;
            description = "YubiKey challenge-response settings (not in Kiln: an assertion says so).";
          };
          preOpenCommands = mkOption {
            type = types.lines;
            default = "";
            description = "Stage 1 commands run before the device is opened (not in Kiln: an assertion says so).";
          };
          postOpenCommands = mkOption {
            type = types.lines;
            default = "";
            description = "Stage 1 commands run after the device is opened (not in Kiln: an assertion says so).";
          };
          crypttabExtraOpts = mkOption {
            type = types.listOf types.singleLineStr;
            default = [ ];
            example = [ "_netdev" ];
            description = "Options added to the device's line of /etc/crypttab.";
          };
        };
      }));
    };
  };

  config = lib.mkMerge [
    (let
      secrets = config.boot.initrd.secrets;
      copied = lib.filterAttrs (_: v: v != null) secrets;
      inPlace = lib.attrNames (lib.filterAttrs (_: v: v == null) secrets);
    in {
      assertions = lib.mapAttrsToList (n: v: {
        assertion = false;
        message = "boot.initrd.secrets.\"${n}\" = ${toString v}: Kiln copies no secret into an image (it would be readable in the image file and its store); put the file at ${n} on the machine and set the entry to null.";
      }) copied;
      warnings = lib.optional (inPlace != [ ])
        "boot.initrd.secrets (${lib.concatStringsSep ", " (map toString options.boot.initrd.secrets.files)}): Kiln's initrd holds no secrets; ${lib.concatStringsSep ", " inPlace} ${if lib.length inPlace == 1 then "is" else "are"} read from the root filesystem when the LUKS devices are opened in stage 2.";
    })
    (lib.mkIf (luks.devices != { } || luks.forceLuksSupportInInitrd) {
      boot.kernelModules = [ "dm_crypt" ] ++ luks.cryptoModules;
    })
    (lib.mkIf (luks.devices != { }) {
      assertions = map (what: { assertion = false; message = "${what}: not supported by Kiln."; }) unsupported;
      warnings = [
        "boot.initrd.luks.devices (${lib.concatStringsSep ", " (map toString opt.files)}): Kiln's root is the image's own and not encrypted; ${lib.concatStringsSep ", " (lib.attrNames luks.devices)} ${if lib.length (lib.attrNames luks.devices) == 1 then "is" else "are"} opened after it by systemd-cryptsetup (/etc/crypttab), and skipped when missing."
      ];
      environment.etc.crypttab.text = lib.concatMapStrings (v: crypttabLine v.name v + "\n") (lib.attrValues luks.devices);
      environment.etc."modprobe.d/kiln-luks.conf" = lib.mkIf luks.mitigateDMAAttacks {
        text = ''
          # boot.initrd.luks.mitigateDMAAttacks: a FireWire device can read the memory holding the keys.
          blacklist firewire_ohci
          blacklist firewire_core
          blacklist firewire_sbp2
        '';
      };
      environment.systemPackages = [ pkgs.cryptsetup-bin ];
    })
  ];
}
