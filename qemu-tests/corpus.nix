# Three of the corpus's configurations (Tests/nixos-configs/), unchanged, booted side by side as
# the machines they describe: the web host (TLS, a reverse proxy to an app the configuration
# writes, fail2ban, SSH keys only) and the monitoring host that scrapes it (Prometheus with a
# rule, Mosquitto with a hashed password, InfluxDB, netdata), and the LAN's name and DHCP
# server (dnsmasq). Every service each enables is checked doing its job.
{ lib, ... }:
let
  corpus = ../Tests/nixos-configs;
in
{
  name = "corpus";
  nodes.web = { imports = [ (corpus + "/web-proxy/configuration.nix") ]; };
  # The test's own client tool beside the configuration, as a NixOS test adds them.
  nodes.monitoring = { pkgs, ... }: {
    imports = [ (corpus + "/monitoring/configuration.nix") ];
    environment.systemPackages = [ pkgs.dig ];
  };
  nodes.dns = { imports = [ (corpus + "/lan-dns/configuration.nix") ]; };

  testScript = ''
    import json

    start_all()
    web.wait_for_unit("multi-user.target")
    web_ip = monitoring.succeed("getent hosts web").split()[0]
    # curl on the monitoring host checks the web host's TLS against the corpus's certificate.
    monitoring.copy_from_host("${toString (corpus + "/web-proxy/tls/cert.pem")}", "/root/example.test.pem")
    curl = f"curl -sS --cacert /root/example.test.pem --resolve www.example.test:80:{web_ip} --resolve www.example.test:443:{web_ip} --resolve app.example.test:443:{web_ip}"

    with subtest("web: nginx serves the static site over TLS and redirects plain HTTP to it"):
        web.wait_for_unit("nginx.service")
        web.wait_for_open_port(443)
        web.succeed("nginx -t")
        redirect = monitoring.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://www.example.test/")
        assert redirect == "301 https://www.example.test/", redirect
        page = monitoring.succeed(f"{curl} -f https://www.example.test/")
        assert "Served by web." in page, page
        assert monitoring.succeed(f"{curl} -f -H 'Accept-Encoding: gzip' -o /dev/null -w '%{{content_type}}' https://www.example.test/").startswith("text/html")

    with subtest("web: the app written by the configuration answers behind the proxy, and only there"):
        web.wait_for_unit("hello-app.service")
        web.wait_for_open_port(8000)
        assert monitoring.succeed(f"{curl} -f https://app.example.test/orders") == "hello from the app, you asked for /orders\n"
        assert monitoring.succeed(f"{curl} -f https://app.example.test/health") == "ok"
        monitoring.fail(f"curl -sS --max-time 5 http://{web_ip}:8000/")
        user = web.succeed("ps -o user= -C python3").strip()
        assert user not in ("root", ""), f"the app runs as {user!r}, not a dynamic user"

    with subtest("web: SSH takes keys only, the admins' module made ops a wheel user, fail2ban guards SSH"):
        web.wait_for_unit("sshd.service")
        sshd = web.succeed("sshd -T")
        assert "passwordauthentication no" in sshd and "permitrootlogin without-password" in sshd, sshd
        web.succeed("grep -q 'ops@laptop' /etc/ssh/authorized_keys.d/ops")
        status, out = web.execute("runuser -u ops -- sudo -n id -un 2>&1")
        assert status == 0 and out.strip() == "root", f"sudo as ops: {status} {out}"
        web.wait_for_unit("fail2ban.service")
        web.wait_until_succeeds("fail2ban-client status sshd", timeout=120)

    with subtest("monitoring: Prometheus scrapes the web host and itself, with the site label and the HostDown rule"):
        monitoring.wait_for_unit("prometheus.service")
        monitoring.wait_for_open_port(9090)
        monitoring.wait_until_succeeds(
            "curl -fsS localhost:9090/api/v1/targets"
            " | jq -e '[.data.activeTargets[] | select(.health == \"up\")] | length == 2'", timeout=180)
        up = json.loads(monitoring.succeed("curl -fsS 'localhost:9090/api/v1/query?query=up%7Bsite%3D%22lab%22%7D'"))
        instances = sorted(r["metric"]["instance"] for r in up["data"]["result"])
        assert instances == ["localhost:9100", "web:9100"], instances
        rules = json.loads(monitoring.succeed("curl -fsS localhost:9090/api/v1/rules"))
        assert rules["data"]["groups"][0]["rules"][0]["name"] == "HostDown", rules

    with subtest("monitoring: Mosquitto takes a sensor's reading with its hashed password, and refuses a wrong one"):
        monitoring.wait_for_unit("mosquitto.service")
        monitoring.wait_for_open_port(1883)
        monitoring.succeed("(mosquitto_sub -h localhost -u sensor -P sensor-secret -t 'sensors/#' -C 1 -W 60 > /tmp/reading 2>&1 &)")
        monitoring.wait_until_succeeds("mosquitto_pub -h localhost -u sensor -P sensor-secret -t sensors/temp -m 21.5 && grep -q 21.5 /tmp/reading", timeout=60)
        monitoring.fail("mosquitto_pub -h localhost -u sensor -P wrong -t sensors/temp -m 0")

    with subtest("monitoring: InfluxDB keeps a reading across a restart, in its data folder, and answers the LAN"):
        monitoring.wait_for_unit("influxdb.service")  # started once /ping answers (its postStart)
        influx = "curl -fsS http://localhost:8086"
        monitoring.succeed(f"{influx}/query --data-urlencode 'q=CREATE DATABASE sensors'")
        assert monitoring.succeed(f"{influx}/write?db=sensors -w '%{{http_code}}' --data-binary 'temp,room=lab value=21.5'") == "204"
        select = f"{influx}/query?db=sensors -G --data-urlencode 'q=SELECT value FROM temp'"
        def reading():
            series = json.loads(monitoring.succeed(select))["results"][0]["series"][0]
            return series["values"][0][1]
        assert reading() == 21.5
        monitoring.systemctl("restart influxdb.service")
        monitoring.wait_for_unit("influxdb.service")
        assert reading() == 21.5
        assert monitoring.succeed("stat -c %U /var/db/influxdb/data/sensors").strip() == "influxdb"
        ping = web.succeed("exec 3<>/dev/tcp/monitoring/8086 && printf 'GET /ping HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3")
        assert " 204 " in ping, ping

    with subtest("monitoring: netdata serves its dashboard and this host's charts, apps.plugin's included"):
        monitoring.wait_for_unit("netdata.service")
        monitoring.wait_for_open_port(19999)
        info = json.loads(monitoring.succeed("curl -fsS localhost:19999/api/v1/info"))
        assert info["version"].startswith("v1.37"), info["version"]
        monitoring.succeed("curl -fsS -o /tmp/dashboard.html localhost:19999/ && grep -qi netdata /tmp/dashboard.html")
        monitoring.wait_until_succeeds(
            "curl -fsS 'localhost:19999/api/v1/data?chart=system.cpu&points=1&format=json' | jq -e '.data | length == 1'", timeout=90)
        charts = "curl -fsS localhost:19999/api/v1/charts"
        assert monitoring.succeed(f"{charts} | jq .update_every").strip() == "2"
        # apps.plugin reads every process's /proc files with the capabilities of its wrapper
        monitoring.succeed("getcap /run/wrappers/bin/apps.plugin | grep -q cap_sys_ptrace")
        monitoring.wait_until_succeeds(f"{charts} | jq -e '.charts | has(\"apps.cpu\")'", timeout=120)
        assert monitoring.succeed("ps -o user= -C netdata | sort -u").strip() == "netdata"

    with subtest("dns: dnsmasq answers for the LAN's names, forward and reverse, and sinks ad domains"):
        dns.wait_for_unit("dnsmasq.service")
        dns.succeed("dnsmasq --test -C /etc/dnsmasq.conf")
        dns_ip = monitoring.succeed("getent hosts dns").split()[0]
        dig = f"dig +short +time=5 @{dns_ip}"
        monitoring.wait_until_succeeds(f"{dig} nas.home.arpa | grep -qx 192.168.1.10", timeout=60)
        assert monitoring.succeed(f"{dig} printer.home.arpa").strip() == "192.168.1.20"
        assert monitoring.succeed(f"{dig} -x 192.168.1.254").strip() == "gateway.home.arpa."
        assert monitoring.succeed(f"{dig} ads.example.com").strip() == "0.0.0.0"
        # local=/home.arpa/: an unknown LAN name is answered here, never forwarded
        assert "NXDOMAIN" in monitoring.succeed(f"dig +time=5 @{dns_ip} nothing-here.home.arpa")
        # the machine itself asks dnsmasq first (resolveLocalQueries)
        assert dns.succeed("getent hosts nas.home.arpa").split()[0] == "192.168.1.10"
        # and it serves DHCP on the LAN, as dnsmasq's own user
        dns.succeed("ss -ulpn | grep -q ':67 .*dnsmasq'")
        assert dns.succeed("ps -o user= -C dnsmasq").strip() == "dnsmasq"

    with subtest("monitoring: journald's cap and logrotate's configuration are in place"):
        monitoring.succeed("systemd-analyze cat-config systemd/journald.conf | grep -qx 'SystemMaxUse=200M'")
        monitoring.succeed("logrotate -d /etc/logrotate.conf")
  '';
}
