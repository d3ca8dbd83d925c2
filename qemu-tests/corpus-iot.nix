# The corpus's small ARM board (Tests/nixos-configs/iot-gateway), unchanged, booted as the
# aarch64 machine it describes (UEFI, TCG): a timer publishes the board's temperature to
# Mosquitto, which takes other sensors' readings from the LAN; the journal stays in RAM,
# swap is compressed RAM, systemd feeds a watchdog. It is also the driver's test on another
# architecture.
{
  name = "corpus-iot";
  hardware = "qemu-aarch64";  # a machine description kiln carries (or a path to a .nix file)
  nodes.gateway = { imports = [ ../Tests/nixos-configs/iot-gateway/configuration.nix ]; };
  testScript = ''
    gateway.start()
    assert gateway.succeed("uname -m").strip() == "aarch64"
    gateway.wait_for_unit("multi-user.target")

    with subtest("gateway: the timer publishes the board's temperature; Mosquitto takes the LAN's readings"):
        gateway.wait_for_unit("mosquitto.service")
        gateway.wait_for_open_port(1883)
        gateway.wait_for_unit("publish-temperature.timer")
        gateway.succeed("systemctl start publish-temperature.service")
        reading = gateway.succeed("mosquitto_sub -h localhost -t sensors/sensor-gw/temperature -C 1 -W 20").strip()
        assert reading != "", reading
        ip = gateway.succeed("ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1").strip()
        gateway.succeed(f"mosquitto_pub -h {ip} -t sensors/kitchen/humidity -r -m 41")
        assert gateway.succeed(f"mosquitto_sub -h {ip} -t sensors/kitchen/humidity -C 1 -W 20").strip() == "41"

    with subtest("gateway: the journal is in RAM, swap is compressed RAM, systemd feeds the watchdog"):
        header = gateway.succeed("journalctl --header")
        assert "/run/log/journal/" in header and "/var/log/journal/" not in header, header
        gateway.wait_until_succeeds("swapon --show=NAME --noheadings | grep -q zram0", timeout=60)
        assert "[zstd]" in gateway.succeed("cat /sys/block/zram0/comp_algorithm")
        assert gateway.succeed("systemctl show -p RuntimeWatchdogUSec").strip() == "RuntimeWatchdogUSec=30s"
  '';
}
