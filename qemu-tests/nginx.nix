# A web server and a client on the test LAN. The server is the corpus's documentation site
# (Tests/nixos-configs/docs-site), unchanged: the client reads the handbook by the server's
# name (with and without .html), lists the downloads and their hourly checksums, is asked
# for a password in the private section and let in with a lead's; the status page answers
# only on the server itself. The client is the corpus's edge proxy (edge-proxy/), whose
# HAProxy checks the server and passes its pages on.
{
  name = "nginx";
  nodes.server = { pkgs, ... }: {
    imports = [ ../Tests/nixos-configs/docs-site/configuration.nix ];
    # The test's own client beside the configuration, as a NixOS test adds one.
    environment.systemPackages = [ pkgs.curl ];
  };
  nodes.client = {
    imports = [ ../Tests/nixos-configs/edge-proxy/configuration.nix ];
    # The test's stand-in for the team's internal DNS: the server is the first docs server.
    # (Nodes are numbered in the order of their names: the server is 192.168.1.2.)
    networking.hosts."192.168.1.2" = [ "docs1.internal" ];
  };
  testScript = ''
    start_all()
    server.wait_for_unit("nginx.service")
    server.wait_for_open_port(80)

    with subtest("the server accepts its generated configuration and answers itself"):
        server.succeed("nginx -t -c /etc/nginx/nginx.conf")
        # By its LAN address: 127.0.0.1:80 is the status page's own server (statusPage).
        assert "Team handbook" in server.succeed("curl -fsS http://server/")

    with subtest("the client reads the handbook by the server's name"):
        client.wait_for_unit("multi-user.target")
        page = client.succeed("curl -fsS --max-time 10 http://server/")
        assert page.startswith("<h1>Team handbook</h1>"), f"unexpected page: {page}"
        assert "Ask for a laptop" in client.succeed("curl -fsS http://server/onboarding")
        headers = client.succeed("curl -fsSI http://server/")
        assert "nginx" in headers
        client.fail("curl -fsS http://server/nothing-here")

    with subtest("downloads are listed, with their checksums"):
        server.succeed("echo v1 > /srv/downloads/tool-1.0.tar.gz", "systemctl start downloads-checksums.service")
        server.wait_for_unit("downloads-checksums.timer")
        listing = client.succeed("curl -fsS http://server/downloads/")
        assert "tool-1.0.tar.gz" in listing and "SHA256SUMS" in listing, listing
        client.succeed("cd /tmp && curl -fsSO http://server/downloads/tool-1.0.tar.gz && curl -fsS http://server/downloads/SHA256SUMS | sha256sum -c -")

    with subtest("the private section wants a lead's password"):
        assert client.succeed("curl -s -o /dev/null -w '%{http_code}' http://server/private/salaries.html") == "401"
        assert client.succeed("curl -s -o /dev/null -w '%{http_code}' -u lena:wrong http://server/private/salaries.html") == "401"
        assert "Salary bands" in client.succeed("curl -fsS -u lena:lead-pass http://server/private/salaries.html")

    with subtest("the status page answers only on the server"):
        assert "Active connections" in server.succeed("curl -fsS http://127.0.0.1/nginx_status")
        client.fail("curl -fsS http://server/nginx_status")

    with subtest("the edge proxy: HAProxy as its own account, the server checked up, its pages passed on"):
        client.wait_for_unit("haproxy.service")
        client.succeed("haproxy -c -q -f /etc/haproxy.cfg")
        assert set(client.succeed("ps -o user= -C haproxy").split()) == {"haproxy"}, client.succeed("ps -o user=,args= -C haproxy")
        stats = "curl -fsS 'http://127.0.0.1:8404/stats;csv'"
        client.wait_until_succeeds(f"{stats} | grep -q '^docs,docs1,.*,UP,'", timeout=60)
        assert ",MAINT" in client.succeed(f"{stats} | grep '^docs,docs2,'")
        page = client.succeed("curl -fsS --max-time 10 http://127.0.0.1/")
        assert page.startswith("<h1>Team handbook</h1>"), page
        server.fail("curl -fsS --max-time 5 http://client:8404/stats")

    with subtest("the admins' sshd and node exporter"):
        server.wait_for_unit("sshd.service")  # its host keys and /run/sshd
        server.succeed("sshd -t")
        assert "node_systemd_unit_state" in client.succeed("curl -fsS http://server:9100/metrics")
        client.copy_from_vm("/etc/hosts")
  '';
}
