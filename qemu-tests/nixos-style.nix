# A test written as nixpkgs' nixos/tests are, minus the `import ./make-test-python.nix (`
# wrapper: a function of pkgs and lib, `defaults` for every node, and a testScript that is a
# function of the nodes' configurations, in plain Python (def, loops, json, exceptions).
# It also drives what a person at the machine would: keys typed on the graphical console,
# read back by OCR, and files copied in from the host.
{ pkgs, lib, ... }:
let
  port = 8080;
in
{
  name = "nixos-style";
  meta.maintainers = [ ];
  skipLint = true;
  skipTypeCheck = true;

  defaults = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ curl jq ];
  };

  nodes = {
    webserver = { config, ... }: {
      networking.domain = "example.test";
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
    };
    client = { ... }: { };
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

    with subtest("a missing page fails, and the failure can be caught"):
        try:
            client.succeed(f"curl -fsS http://webserver:{web}/missing")
        except Exception as e:
            assert "exit code 22" in str(e), str(e)
        else:
            raise AssertionError("fetching a missing page succeeded")

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
