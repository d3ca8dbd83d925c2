# The corpus's small ARM board (Tests/nixos-configs/iot-gateway), unchanged, booted as the
# aarch64 machine it describes (UEFI, TCG): a timer publishes the board's temperature to
# Mosquitto, which takes other sensors' readings from the LAN; the journal stays in RAM,
# swap is compressed RAM, systemd feeds a watchdog. Beside it the corpus's queue worker on an
# ARM cloud instance (Tests/nixos-configs/job-queue): documents queued in its Redis are
# indexed by the team's own module's workers, each a throwaway user that reaches Redis only
# by its socket, and the summary timer's job writes what was indexed. It is also the
# driver's test on another architecture.
{
  name = "corpus-iot";
  hardware = "qemu-aarch64";  # a machine description kiln carries (or a path to a .nix file)
  nodes.gateway = { imports = [ ../Tests/nixos-configs/iot-gateway/configuration.nix ]; };
  nodes.worker = { imports = [ ../Tests/nixos-configs/job-queue/configuration.nix ]; };
  testScript = ''
    start_all()
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

    with subtest("worker: queued documents are indexed by the workers, and summarised"):
        worker.wait_for_unit("redis-docqueue.service")
        for i in (1, 2, 3):
            worker.wait_for_unit(f"docqueue-worker-{i}.service")
        # Throwaway users, not root; Redis on its socket only.
        uids = worker.succeed("ps -o uid= -C docqueue-worker | sort -u").split()
        assert len(uids) == 3 and "0" not in uids, uids
        worker.fail("ss -ltn | grep -q ':6379'")
        cli = "redis-cli -s /run/redis-docqueue/redis.sock"
        worker.succeed(
            "printf 'one two three\\n' > /srv/uploads/a.txt",
            "printf 'four five\\n' > /srv/uploads/b.txt",
            f"{cli} rpush docqueue:jobs /srv/uploads/a.txt /srv/uploads/b.txt /srv/uploads/missing.txt",
        )
        worker.wait_until_succeeds(f"test $({cli} hlen docqueue:words) = 2 && test $({cli} hlen docqueue:errors) = 1", timeout=60)
        assert worker.succeed(f"{cli} hget docqueue:words /srv/uploads/a.txt").strip() == "3"
        worker.wait_for_unit("docqueue-summary.timer")
        worker.succeed("systemctl start docqueue-summary.service")
        summary = worker.succeed("cat /var/lib/docqueue/summary.txt")
        assert "documents: 2" in summary and "unreadable: 1" in summary, summary
        worker.wait_for_unit("sshd.service")  # its host keys and /run/sshd
        worker.succeed("sshd -t")
        worker.wait_for_open_port(9100)
        metrics = worker.succeed("python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://localhost:9100/metrics\").read().decode())'")
        assert "node_systemd_unit_state" in metrics
  '';
}
