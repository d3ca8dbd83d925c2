# A test written as nixpkgs' nixos/tests are, minus the `import ./make-test-python.nix (`
# wrapper: a function of pkgs and lib, `defaults` for every node, and a testScript that is a
# function of the nodes' configurations, in plain Python (def, loops, json, exceptions).
# It also drives what a person at the machine would: keys typed on the graphical console,
# read back by OCR, and files copied in from the host. Between the two machines run a BIND
# zone with its secondary and an OpenVPN tunnel.
{ pkgs, lib, ... }:
let
  port = 8080;
  # A node's address on the test LAN, from the /etc/hosts lines kiln test gives every node.
  addressIn = config: name: builtins.head (builtins.head (builtins.filter (m: m != null)
    (map (builtins.match "([0-9.]+) ${name}") (lib.splitString "\n" config.kiln.testing.hosts))));
  # A point-to-point OpenVPN tunnel with a static key (the test's own), as in NixOS's
  # openvpn example; `up` leaves a mark that the script ran.
  vpn = local: remote: extra: {
    config = ''
      dev tun
      proto udp
      ifconfig ${local} ${remote}
      secret /etc/openvpn/static.key
      cipher AES-256-CBC
      ${extra}
    '';
    up = "echo \"$dev\" > /run/openvpn-up";
  };
  vpnKey = { source = ./openvpn-static.key; mode = "0600"; };
  # Syncthing on both machines, each with its own fixed keys (so its device ID is known), one
  # folder shared between them; no relays or discovery servers on a test LAN.
  syncthing = config: self: peer: {
    enable = true;
    openDefaultPorts = true;
    cert = "${./syncthing}/${self}-cert.pem";
    key = "${./syncthing}/${self}-key.pem";
    settings = {
      options = { relaysEnabled = false; globalAnnounceEnabled = false; localAnnounceEnabled = false; urAccepted = -1; };
      devices.${peer.name} = { id = peer.id; addresses = [ "tcp://${addressIn config peer.name}:22000" ]; };
      folders."/var/lib/syncthing/shared" = { id = "shared"; devices = [ peer.name ]; fsWatcherDelayS = 1; };
    };
  };
  syncthingIds = {
    a = "FIUNEXP-N2QDQPT-SNHTK22-3O5K74I-K4SLGWJ-FTIISSN-3BNDIO3-DUPXHAU";
    b = "4O4BPJD-QQCVPXH-PSOWWVD-OQRKE4Q-6WAZFY6-M2DH72W-ONRHWQJ-N44QBQI";
  };
in
{
  name = "nixos-style";
  meta.maintainers = [ ];
  skipLint = true;
  skipTypeCheck = true;

  defaults = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ curl jq dig ];
    networking.firewall.allowedTCPPorts = [ 53 ];
    networking.firewall.allowedUDPPorts = [ 53 1194 ];
  };

  nodes = {
    webserver = { config, pkgs, ... }: {
      networking.domain = "example.test";
      # The primary of example.test, which the client may transfer.
      services.bind = {
        enable = true;
        zones."example.test" = {
          master = true;
          slaves = [ (addressIn config "client") ];
          file = pkgs.writeText "example.test.zone" ''
            $TTL 300
            @    IN SOA ns.example.test. admin.example.test. ( 1 3600 600 86400 300 )
            @    IN NS  ns.example.test.
            ns   IN A   ${addressIn config "webserver"}
            www  IN A   10.7.0.1
          '';
        };
      };
      services.openvpn.servers.p2p = vpn "10.8.0.1" "10.8.0.2" "";
      services.syncthing = syncthing config "a" { name = "client"; id = syncthingIds.b; };
      # Two AppArmor profiles a program can be run under: one enforced, one complaining.
      # Programs and their libraries are files in the store, so that is where they map from.
      security.apparmor = {
        enable = true;
        policies.kiln-reader.profile = ''
          abi <abi/3.0>,
          include <tunables/global>
          profile kiln-reader {
            include <abstractions/base>
            /nix/store/** mr,
            /run/aa/open r,
          }
        '';
        policies.kiln-watch = {
          state = "complain";
          profile = ''
            abi <abi/3.0>,
            include <tunables/global>
            profile kiln-watch {
              include <abstractions/base>
              /nix/store/** mr,
            }
          '';
        };
      };
      environment.etc."openvpn/static.key" = vpnKey;
      services.nginx = {
        enable = true;
        virtualHosts.webserver = {
          default = true;
          listen = [ { addr = "0.0.0.0"; inherit port; } ];
          root = "/etc/www";
        };
      };
      environment.etc."www/info.json".text = builtins.toJSON {
        host = config.networking.hostName;
        inherit port;
      };
      networking.firewall.allowedTCPPorts = [ port ];
      # A tagged VLAN beside the test LAN, on the same card.
      networking.vlans.vlan7 = { id = 7; interface = "eth0"; };
      networking.interfaces.vlan7.ipv4.addresses = [ { address = "10.7.0.1"; prefixLength = 24; } ];
    };
    # What the configuration's own Nix code writes into the store: the trivial builders,
    # a file beside this test, and packages named only inside strings (hello).
    # It is a NAT box too: its port 8081 forwards to the web server, and the machine
    # reaches that port at its own address (loopbackIPs).
    client = { config, lib, pkgs, ... }: {
      # Apache on a port of its own: pages the configuration writes, a path proxied to the web
      # server's nginx, a robots.txt.
      services.httpd = {
        enable = true;
        adminAddr = "admin@example.test";
        virtualHosts.pages = {
          listen = [ { port = 8088; } ];
          documentRoot = pkgs.writeTextDir "index.html" "<h1>served by Apache</h1>\n";
          locations."/web/".proxyPass = "http://${addressIn config "webserver"}:${toString port}/";
          robotsEntries = "User-agent: *\nDisallow: /web/";
        };
      };
      networking.firewall.allowedTCPPorts = [ 8088 ];
      # example.test's secondary, kept in named's directory; the client's own lookups go to it.
      services.bind = {
        enable = true;
        zones = [ { name = "example.test"; master = false; file = "example.test.zone"; masters = [ (addressIn config "webserver") ]; } ];
      };
      services.openvpn.servers.p2p = vpn "10.8.0.2" "10.8.0.1" "remote webserver 1194";
      services.syncthing = syncthing config "b" { name = "webserver"; id = syncthingIds.a; };
      environment.etc."openvpn/static.key" = vpnKey;
      # The same VLAN, as a port of a bridge that has the address (as a VM host bridges it).
      networking.vlans.vlan7 = { id = 7; interface = "eth0"; };
      networking.bridges.br0.interfaces = [ "vlan7" ];
      networking.interfaces.br0.ipv4.addresses = [ { address = "10.7.0.2"; prefixLength = 24; } ];
      networking.nat = {
        enable = true;
        externalInterface = "eth0";
        forwardPorts = [ {
          sourcePort = 8081;
          destination = "${addressIn config "webserver"}:${toString port}";
          loopbackIPs = [ config.kiln.testing.address ];
        } ];
      };
      environment.systemPackages = [
        (pkgs.writeShellScriptBin "greet" ''
          echo "$(${pkgs.hello}/bin/hello -g 'greetings, written')"
          cat ${pkgs.writeText "greeting.txt" "written text\n"}
        '')
        (pkgs.writeShellApplication {
          name = "count-args";
          runtimeInputs = [ pkgs.jq ];
          text = ''jq -n --arg n "$#" '$n' '';
        })
      ];
      environment.etc."issue.d/written.issue".source = ./nixos-style-issue.txt;
      environment.etc."farm".source = pkgs.linkFarm "farm" { jq = "${pkgs.jq}/bin/jq"; };
      # startAt makes a timer (its accuracy narrowed so the test need not wait a minute);
      # DynamicUser gives a service an account that exists only while it runs.
      systemd.services.ticker = {
        startAt = "*:*:0/2";
        path = [ pkgs.coreutils ];
        script = "date +%s >> /var/lib/ticker/ticks";
        serviceConfig.StateDirectory = "ticker";
        # Started every 2 s, it would hit systemd's default start limit (5 in 10 s) whenever
        # a slow moment bunches the timer's runs: a CI run failed on that.
        unitConfig.StartLimitIntervalSec = 0;
      };
      systemd.timers.ticker.timerConfig.AccuracySec = "1s";
      systemd.services.dynamic = {
        wantedBy = [ "multi-user.target" ];
        path = [ pkgs.coreutils ];
        script = ''id -u > "$STATE_DIRECTORY/uid"'';
        serviceConfig = { DynamicUser = true; StateDirectory = "dynamic"; Type = "oneshot"; RemainAfterExit = true; };
      };
      systemd.services.written = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "${pkgs.writeShellScript "written-start" "echo started > /run/written"}";
        };
      };
    };
  };

  testScript = { nodes, ... }: ''
    import json
    import os
    import tempfile

    web = ${toString port}
    fqdn = "${nodes.webserver.config.networking.fqdn}"


    def address_of(machine):
        """The machine's IPv4 address on the test LAN, from `ip -json`."""
        links = json.loads(machine.succeed("ip -json -4 addr show"))
        for link in links:
            for info in link.get("addr_info", []):
                if info["local"].startswith("192.168.1."):
                    return info["local"]
        raise Exception(f"{machine.name} has no address on the test LAN: {links}")


    start_all()

    with subtest("every machine is up, with its own name and address"):
        addresses = {}
        for m in machines:
            m.wait_for_unit("multi-user.target")
            assert m.succeed("hostname").strip() == m.name
            addresses[m.name] = address_of(m)
        assert len(set(addresses.values())) == len(machines), addresses
        t.assertEqual(fqdn, "webserver.example.test")

    with subtest("the web server serves its configuration as JSON"):
        webserver.wait_for_unit("nginx.service")
        webserver.wait_for_open_port(web)
        info = json.loads(client.succeed(f"curl -fsS http://{addresses['webserver']}:{web}/info.json"))
        assert info == {"host": "webserver", "port": ${toString port}}, info
        assert client.succeed(f"curl -fsS http://webserver:{web}/info.json | jq -r .host").strip() == "webserver"

    with subtest("the VLAN carries traffic between the machines, through the client's bridge"):
        assert "vlan protocol 802.1Q id 7" in client.succeed("ip -d link show vlan7")
        assert "master br0" in client.succeed("ip link show vlan7")
        client.wait_until_succeeds("ping -c 1 -W 2 10.7.0.1", timeout=30)
        webserver.succeed("ping -c 1 -W 2 10.7.0.2")

    with subtest("BIND: the web server's zone, and the client's copy of it by zone transfer"):
        webserver.wait_for_unit("bind.service")
        client.wait_for_unit("bind.service")
        webserver.succeed("named-checkconf /etc/bind/named.conf")
        assert webserver.succeed("dig +short @127.0.0.1 www.example.test").strip() == "10.7.0.1"
        client.wait_until_succeeds("test -s /run/named/example.test.zone", timeout=60)
        answer = client.succeed("dig +norec @127.0.0.1 www.example.test")
        assert " aa" in answer.split("flags:")[1].split(";")[0], answer
        assert client.succeed("getent hosts www.example.test").split()[0] == "10.7.0.1"
        assert "status: NXDOMAIN" in client.succeed(f"dig @{addresses['webserver']} missing.example.test")
        assert "server is up and running" in webserver.succeed("rndc -k /etc/bind/rndc.key status")
        assert webserver.succeed("ps -o user= -C named").strip() == "named"

    with subtest("OpenVPN: the point-to-point tunnel carries traffic, and its up script ran"):
        webserver.wait_for_unit("openvpn-p2p.service")
        client.wait_for_unit("openvpn-p2p.service")
        client.wait_until_succeeds("ping -c 1 -W 2 10.8.0.1", timeout=60)
        webserver.succeed("ping -c 1 -W 2 10.8.0.2")
        assert client.succeed("cat /run/openvpn-up").strip() == "tun0"

    with subtest("AppArmor: a policy enforced and one complaining, loaded at boot"):
        webserver.wait_for_unit("apparmor.service")
        status = webserver.succeed("aa-status")
        assert "2 profiles are loaded" in status and "1 profiles are in enforce mode" in status, status
        assert "kiln-reader" in status and "kiln-watch" in status, status
        webserver.succeed("mkdir -p /run/aa && echo open > /run/aa/open && echo secret > /run/aa/secret")
        assert webserver.succeed("aa-exec -p kiln-reader -- cat /run/aa/open").strip() == "open"
        webserver.fail("aa-exec -p kiln-reader -- cat /run/aa/secret")
        # Complaining, the profile lets it through and logs what it would have denied.
        assert webserver.succeed("aa-exec -p kiln-watch -- cat /run/aa/secret").strip() == "secret"
        webserver.wait_until_succeeds("journalctl -b -o cat | grep 'apparmor=.DENIED.' | grep -q 'profile=.kiln-reader.*name=./run/aa/secret'", timeout=30)
        webserver.wait_until_succeeds("journalctl -b -o cat | grep 'apparmor=.ALLOWED.' | grep -q 'profile=.kiln-watch.*name=./run/aa/secret'", timeout=30)

    with subtest("Apache: pages from the store, a proxied path, robots.txt, its own account and logs"):
        client.wait_for_unit("httpd.service")
        client.wait_for_open_port(8088)
        client.succeed("apache2 -t -f /etc/httpd/httpd.conf")
        assert webserver.succeed("curl -fsS http://client:8088/") == "<h1>served by Apache</h1>\n"
        info = json.loads(webserver.succeed("curl -fsS http://client:8088/web/info.json"))
        assert info["host"] == "webserver", info
        assert "Disallow: /web/" in webserver.succeed("curl -fsS http://client:8088/robots.txt")
        assert set(client.succeed("ps -o user= -C apache2").split()) == {"wwwrun"}
        assert "GET /web/info.json" in client.succeed("cat /var/log/httpd/access-pages.log")

    with subtest("Syncthing: each machine has the device ID of its keys, and a file written on one appears on the other"):
        for m in [webserver, client]:
            m.wait_for_unit("syncthing.service")
            m.wait_for_unit("syncthing-init.service")
        config_xml = webserver.succeed("cat /var/lib/syncthing/.config/syncthing/config.xml")
        key = config_xml.split("<apikey>")[1].split("</apikey>")[0]
        status = json.loads(webserver.succeed(f"curl -fsS -H 'X-API-Key: {key}' http://127.0.0.1:8384/rest/system/status"))
        assert status["myID"] == "${syncthingIds.a}", status
        folders = json.loads(webserver.succeed(f"curl -fsS -H 'X-API-Key: {key}' http://127.0.0.1:8384/rest/config/folders"))
        assert [f["id"] for f in folders] == ["shared"], folders
        webserver.succeed("echo 'synced from the web server' > /var/lib/syncthing/shared/hello.txt")
        client.wait_until_succeeds("grep -q 'synced from the web server' /var/lib/syncthing/shared/hello.txt", timeout=120)
        assert client.succeed("stat -c %U /var/lib/syncthing/shared/hello.txt").strip() == "syncthing"

    with subtest("a missing page fails, and the failure can be caught"):
        try:
            client.succeed(f"curl -fsS http://webserver:{web}/missing")
        except Exception as e:
            assert "exit code 22" in str(e), str(e)
        else:
            raise AssertionError("fetching a missing page succeeded")

    with subtest("store objects the configuration wrote: pkgs.write*, linkFarm, a file beside the test"):
        client.wait_for_unit("written.service")
        assert client.succeed("cat /run/written") == "started\n"
        out = client.succeed("greet")
        assert out == "greetings, written\nwritten text\n", out
        assert client.succeed("count-args a b").strip() == '"2"'
        assert client.succeed("/etc/farm/jq -n 3").strip() == "3"
        assert client.succeed("cat /etc/issue.d/written.issue") == "Written beside the test, copied into the store.\n"
        for f in ["/run/current-system/sw/bin/greet", "/etc/issue.d/written.issue"]:
            assert client.succeed(f"readlink -f {f}").startswith("/nix/store/"), f
        client.fail("echo x > $(readlink -f /etc/issue.d/written.issue)")
        greet = client.succeed("readlink -f /run/current-system/sw/bin/greet").strip()
        greet_object = "/".join(greet.split("/")[:4])
        client.succeed(f"grep -q '^{greet_object} ' /nix/var/kiln/registration")

    with subtest("networking.nat forwards a port to the web server"):
        client.wait_for_unit("nat.service")
        client.succeed("nft -c -f /etc/kiln/nat.nft")
        assert client.succeed("sysctl -n net.ipv4.conf.all.forwarding").strip() == "1"
        info = json.loads(client.succeed(f"curl -fsS http://{addresses['client']}:8081/info.json"))
        assert info["host"] == "webserver", info
        client.succeed("nft list table ip kiln-nat | grep -q 'port forward from this machine'")

    with subtest("startAt runs a service from a timer; DynamicUser gives it an account of its own"):
        client.wait_for_unit("ticker.timer")
        client.wait_until_succeeds("[ $(wc -l < /var/lib/ticker/ticks) -ge 2 ]", timeout=60)
        client.wait_for_unit("dynamic.service")
        uid = int(client.succeed("cat /var/lib/dynamic/uid"))
        assert 61184 <= uid <= 65519, f"DynamicUser's uid {uid} is outside systemd's dynamic range"
        client.fail(f"grep -q '^[^:]*:[^:]*:{uid}:' /etc/passwd")

    with subtest("files copied in from the host, and out again"):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(f"{d}/tree/sub")
            with open(f"{d}/tree/sub/data.txt", "w") as f:
                f.write("from the host\n")
            client.copy_from_host(f"{d}/tree", "/root/copied")
        assert client.succeed("cat /root/copied/sub/data.txt") == "from the host\n"
        copied = client.copy_from_vm("/root/copied/sub/data.txt", "out")
        assert open(copied).read() == "from the host\n"

    with subtest("typed on the graphical console, read back from the screen"):
        webserver.wait_for_unit("getty@tty1.service")
        webserver.wait_until_tty_matches("1", "login: ")
        webserver.send_chars("root\n")
        webserver.wait_until_tty_matches("1", "Password: ")
        webserver.screenshot("login")
        webserver.wait_for_text("Password")

    with subtest("unit properties and states"):
        assert webserver.get_unit_property("nginx.service", "ActiveState") == "active"
        webserver.require_unit_state("nginx.service", "active")
        webserver.systemctl("stop nginx.service")
        webserver.wait_for_closed_port(web)
        webserver.require_unit_state("nginx.service", "inactive")
  '';
}
