# What `kiln test` adds to every node (and nothing else ever includes): the backdoor root
# shell the test driver talks to, the test LAN, and a boot trimmed of waits a test VM does
# not need. Like NixOS's nixos/modules/testing/test-instrumentation.nix.
#
# kiln.testing.address  this node's IPv4 address on the test LAN (set by the driver)
# kiln.testing.hosts    the /etc/hosts text naming every node (set by the driver)
{ config, lib, pkgs, ... }:
let
  cfg = config.kiln.testing;
  console = config.boot.console;
  # The driver's hosts text names every node; localhost is networking's already.
  hostLines = builtins.filter (l: builtins.isString l && l != "" && builtins.match ".*localhost.*" l == null)
    (builtins.split "\n" cfg.hosts);
in
{
  options.kiln.testing = {
    address = lib.mkOption {
      type = lib.types.str;
      default = "";
      example = "192.168.1.1";
      description = "This node's IPv4 address on the test LAN (eth0, a /24); set by `kiln test`.";
    };
    hosts = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "/etc/hosts lines naming every node of the test; set by `kiln test`.";
    };
  };

  config = {
    # The backdoor's console (hvc0), as early as stage 1, so the driver can talk to the
    # machine before udev has loaded anything. (The LAN's card is udev's to load, as on
    # every machine.)
    boot.initrd.kernelModules = [ "virtio_console" ];
    # Same timing every run (as NixOS tests do); journal on the console, for the logs.
    boot.kernelParams = [ "systemd.journald.forward_to_console=1" "net.ifnames=0" ]
      ++ lib.optional (config.nixpkgs.hostPlatform == "x86_64-linux") "clocksource=acpi_pm";
    boot.loader.timeout = lib.mkForce 0;

    # A root shell on /dev/hvc0. It starts as early as systemd can start anything (no default
    # dependencies), so the driver can run commands while the rest of the boot goes on. The
    # driver waits for the banner, then sends lines. Each command's stderr goes to the serial
    # console, opened anew for that command (KILN_STDERR): a serial getty's vhangup() makes an
    # fd opened before it fail with EIO, and `grep -q` then exits 0 whatever it found (gnulib's
    # close_stdout exits with grep -q's exit_failure, 0), so checks would pass vacuously.
    systemd.services.backdoor = {
      description = "Kiln test driver backdoor";
      wantedBy = [ "sysinit.target" ];
      before = [ "shutdown.target" ];
      unitConfig = { DefaultDependencies = false; Conflicts = "shutdown.target"; };
      serviceConfig = { KillSignal = "SIGHUP"; Restart = "always"; RestartSec = "1"; };
      script = ''
        export USER=root HOME=/root TERM=dumb KILN_STDERR=/dev/${console}
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        cd /root
        exec 2> /dev/${console}
        echo "kiln backdoor: $(cut -d' ' -f1 /proc/uptime) waiting for hvc0" >&2
        while [ ! -e /dev/hvc0 ]; do sleep 0.1; done
        echo "kiln backdoor: $(cut -d' ' -f1 /proc/uptime) opening hvc0" >&2
        exec < /dev/hvc0 > /dev/hvc0
        stty -F /dev/hvc0 raw -echo
        echo "kiln backdoor: $(cut -d' ' -f1 /proc/uptime) stty done" >&2
        echo "Spawning backdoor root shell..."
        PS1="" exec bash --norc /dev/hvc0
      '';
    };

    # The test LAN: a static address on the first Ethernet card (network-setup.service), no
    # gateway, no DHCP; every node by name in /etc/hosts. Above mkDefault: the
    # hardware-configuration.nix nixos-generate-config writes says `lib.mkDefault true`.
    networking.useDHCP = lib.mkOverride 900 false;
    networking.interfaces.eth0.ipv4.addresses = lib.mkIf (cfg.address != "") [ { address = cfg.address; prefixLength = 24; } ];
    networking.extraHosts = lib.concatStringsSep "" (map (l: l + "\n") hostLines);

    # A machine ID makes this boot not a "first boot": systemd then skips applying presets to
    # every unit (~4 s under TCG).
    environment.etc."machine-id".text = builtins.hashString "md5" "kiln-test-${config.networking.hostName}" + "\n";

    # hvc0 belongs to the backdoor: no login prompt there.
    environment.etc."systemd/system/serial-getty@hvc0.service".source = "/dev/null";
    # Nothing in a test VM waits for these.
    environment.etc."systemd/system/systemd-udev-settle.service".source = "/dev/null";
    environment.etc."systemd/system/getty-static.service".source = "/dev/null";
    environment.etc."systemd/system/systemd-networkd-wait-online.service".source = "/dev/null";
    environment.etc."systemd/system/man-db.timer".source = "/dev/null";
    environment.etc."systemd/system/apt-daily.timer".source = "/dev/null";
    environment.etc."systemd/system/apt-daily-upgrade.timer".source = "/dev/null";
    environment.etc."systemd/system/e2scrub_reap.service".source = "/dev/null";
  };
}
