# virtualisation.libvirtd (NixOS: nixos/modules/virtualisation/libvirtd.nix), with Debian's
# libvirt 9 and QEMU. Debian's units are used (the daemon, its sockets, virtlogd, virtlockd,
# libvirt-guests), as NixOS uses the package's. What Debian's postinst scripts would do, and
# Kiln does not run, is done here: the users and groups, qemu.conf and libvirtd.conf, and the
# default NAT network's and the packet filters' definitions, copied into /etc/libvirt on the
# first start (files changed on the machine stay). As in NixOS, members of the libvirtd group
# manage qemu:///system through polkit, and the default network is defined, not autostarted.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.virtualisation.libvirtd;
  aarch64 = lib.hasPrefix "aarch64" config.nixpkgs.hostPlatform;
in
{
  options.virtualisation.libvirtd = {
    enable = lib.mkEnableOption "libvirtd, a daemon that manages virtual machines; users in the libvirtd group manage them (virsh, virt-manager)";
    package = mkOption {
      type = types.package;
      default = pkgs.libvirt-daemon-system;
      defaultText = lib.literalExpression "pkgs.libvirt";
      description = "The libvirt package (Debian's libvirt-daemon-system: the daemon, its drivers and units).";
    };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Lines added to libvirtd.conf.";
    };
    extraOptions = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--verbose" ];
      description = "More arguments of libvirtd.";
    };
    onBoot = mkOption {
      type = types.enum [ "start" "ignore" ];
      default = "start";
      description = ''
        What libvirt-guests does with the guests when the machine boots: "start" starts those
        that ran when it shut down; "ignore" leaves that to each guest's autostart.
      '';
    };
    onShutdown = mkOption {
      type = types.enum [ "shutdown" "suspend" ];
      default = "suspend";
      description = "How libvirt-guests stops the guests when the machine shuts down: an ACPI shutdown, or saving their state for the next boot.";
    };
    parallelShutdown = mkOption {
      type = types.ints.unsigned;
      default = 0;
      description = "How many guests are shut down at once (with onShutdown = \"shutdown\"; 0: one after the other).";
    };
    shutdownTimeout = mkOption {
      type = types.ints.unsigned;
      default = 300;
      description = "Seconds libvirt-guests waits for a guest to shut down.";
    };
    startDelay = mkOption {
      type = types.ints.unsigned;
      default = 0;
      description = "Seconds between the starts of two guests at boot.";
    };
    allowedBridges = mkOption {
      type = types.listOf types.str;
      default = [ "virbr0" ];
      description = "Bridges qemu-bridge-helper lets unprivileged guests (qemu:///session) join (/etc/qemu/bridge.conf).";
    };
    qemu = {
      package = mkOption {
        type = types.package;
        default = if aarch64 then pkgs.qemu-system-arm else pkgs.qemu-system-x86;
        defaultText = lib.literalExpression "pkgs.qemu (Debian: the qemu-system package of the machine's architecture)";
        description = "The QEMU libvirt runs guests with.";
      };
      runAsRoot = mkOption {
        type = types.bool;
        default = true;
        description = "Whether libvirtd runs QEMU as root; false: as Debian's libvirt-qemu user.";
      };
      verbatimConfig = mkOption {
        type = types.lines;
        default = ''
          namespaces = []
        '';
        description = "Lines of qemu.conf (after the user and group that runAsRoot sets).";
      };
      ovmf = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether guests can boot with UEFI (Debian's OVMF, or AAVMF on aarch64; libvirt finds it by its firmware descriptors).";
        };
        packages = mkOption {
          type = types.listOf types.package;
          default = [ (if aarch64 then pkgs.qemu-efi-aarch64 else pkgs.ovmf) ];
          defaultText = lib.literalExpression "[ pkgs.OVMF.fd ]";
          description = "The UEFI firmware packages.";
        };
      };
      swtpm = {
        enable = mkOption {
          type = types.bool;
          default = false;
          description = "Whether guests can have an emulated TPM (swtpm).";
        };
        package = mkOption {
          type = types.package;
          default = pkgs.swtpm-tools;
          defaultText = lib.literalExpression "pkgs.swtpm";
          description = "The swtpm package (Debian's swtpm-tools, with swtpm_setup).";
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package pkgs.libvirt-clients cfg.qemu.package pkgs.qemu-utils pkgs.dnsmasq-base pkgs.iptables ]
      ++ lib.optionals cfg.qemu.ovmf.enable cfg.qemu.ovmf.packages
      ++ lib.optional cfg.qemu.swtpm.enable cfg.qemu.swtpm.package;

    boot.kernelModules = [ "tun" "bridge" ];
    security.polkit.enable = true;
    security.polkit.extraConfig = ''
      polkit.addRule(function(action, subject) {
        if (action.id == "org.libvirt.unix.manage" && subject.isInGroup("libvirtd")) {
          return polkit.Result.YES;
        }
      });
    '';

    users.groups.libvirtd = { };
    # Debian's user for QEMU (qemu.conf's default), made by its postinst; kvm is a base group.
    users.groups.libvirt-qemu = { };
    users.users.libvirt-qemu = {
      isSystemUser = true;
      group = "kvm";
      extraGroups = [ "libvirt-qemu" ];
      home = "/var/lib/libvirt";
      description = "Libvirt Qemu";
    };

    environment.etc = {
      "libvirt/libvirtd.conf".text = ''
        auth_unix_ro = "polkit"
        auth_unix_rw = "polkit"
        ${cfg.extraConfig}
      '';
      "libvirt/qemu.conf".text = lib.optionalString cfg.qemu.runAsRoot ''
        user = "root"
        group = "root"
      '' + cfg.qemu.verbatimConfig;
      "qemu/bridge.conf".text = lib.concatMapStrings (b: "allow ${b}\n") cfg.allowedBridges;
      # libvirt-guests.sh sets its defaults, then reads this file.
      "default/libvirt-guests".text = ''
        ON_BOOT=${cfg.onBoot}
        ON_SHUTDOWN=${cfg.onShutdown}
        PARALLEL_SHUTDOWN=${toString cfg.parallelShutdown}
        SHUTDOWN_TIMEOUT=${toString cfg.shutdownTimeout}
        START_DELAY=${toString cfg.startDelay}
      '';
    };

    systemd.packages = [ cfg.package ];
    systemd.services.libvirtd-config = {
      description = "Libvirt Virtual Machine Management Daemon - configuration";
      # The definitions Debian's postinst scripts install; changed ones are kept (-n).
      script = ''
        mkdir -p -m 0755 /etc/libvirt/qemu/networks /etc/libvirt/nwfilter
        cp -n /usr/share/libvirt/networks/default.xml /etc/libvirt/qemu/networks/default.xml
        for f in /usr/share/libvirt/nwfilter/*.xml; do
          cp -n "$f" /etc/libvirt/nwfilter/
        done
      '';
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
      };
    };
    systemd.tmpfiles.rules = [
      "d /var/lib/libvirt/images 0711 root root -"
      "d /var/lib/libvirt/boot 0711 root root -"
      "d /var/lib/libvirt/dnsmasq 0755 root root -"
      "d /var/lib/libvirt/qemu 0750 libvirt-qemu libvirt-qemu -"
      "d /var/cache/libvirt/qemu 0711 root root -"
      "d /var/log/libvirt/qemu 0750 root root -"
    ];
    systemd.services.libvirtd = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      requires = [ "libvirtd-config.service" ];
      after = [ "libvirtd-config.service" ];
      # qemu-img for volumes, dnsmasq and iptables for the NAT networks.
      path = [ cfg.qemu.package pkgs.qemu-utils pkgs.dnsmasq-base pkgs.iptables ]
        ++ lib.optional cfg.qemu.swtpm.enable cfg.qemu.swtpm.package;
      environment.LIBVIRTD_ARGS = lib.escapeShellArgs ([ "--timeout" "120" ] ++ cfg.extraOptions);
      restartIfChanged = false;
    };
    systemd.services.libvirt-guests = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      restartIfChanged = false;
    };
    systemd.sockets.libvirtd = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
    systemd.sockets.libvirtd-ro = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
    systemd.sockets.libvirtd-admin = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
    systemd.sockets.virtlogd = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
    systemd.sockets.virtlockd = { overrideStrategy = "asDropin"; wantedBy = [ "sockets.target" ]; };
  };
}
