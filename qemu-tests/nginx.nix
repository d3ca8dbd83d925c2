# A web server and a client on the test LAN: the client fetches a page from the server by name.
{
  name = "nginx";
  nodes.server = { ... }: {
    services.nginx = {
      enable = true;
      virtualHosts.server = {
        default = true;
        root = "/etc/kiln-www";
      };
    };
    environment.etc."kiln-www/index.html".text = "<h1>Served by Kiln</h1>\n";
    networking.firewall.allowedTCPPorts = [ 80 ];
  };
  nodes.client = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ curl ];
  };
  testScript = ''
    start_all()
    server.wait_for_unit("nginx.service")
    server.wait_for_open_port(80)

    with subtest("the server answers itself"):
        assert "Served by Kiln" in server.succeed("curl -fsS http://localhost/ || (exec 3<>/dev/tcp/localhost/80; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3)")

    with subtest("the client fetches the page by the server's name"):
        client.wait_for_unit("multi-user.target")
        page = client.succeed("curl -fsS --max-time 10 http://server/")
        assert page == "<h1>Served by Kiln</h1>\n", f"unexpected page: {page}"
        headers = client.succeed("curl -fsSI http://server/")
        assert "nginx" in headers

    with subtest("a missing page is a 404"):
        client.fail("curl -fsS http://server/nothing-here")
        client.copy_from_vm("/etc/hosts")
  '';
}
