# Two machines on the test LAN: the client logs in to the server by name with a key; while
# the server's link is cut the connection fails, and it works again once the link is back.
let
  # services.openssh does what openssh-server's maintainer scripts would: the sshd user,
  # host keys at first boot, the unit (sshd.service), and port 22 in the firewall.
  sshServer = { ... }: {
    services.openssh = {
      enable = true;
      settings.PasswordAuthentication = false;
      settings.KbdInteractiveAuthentication = false;
    };
    # No password can log in as root; a key can.
    users.users.root.hashedPassword = "*";
  };
in
{
  name = "ssh";
  nodes.server = sshServer;
  nodes.client = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ openssh-client ];
  };
  testScript = ''
    ssh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5"

    start_all()
    server.wait_for_unit("sshd.service")
    server.wait_for_open_port(22)

    with subtest("the client has a key the server accepts"):
        client.succeed("mkdir -p -m 700 /root/.ssh", "ssh-keygen -q -t ed25519 -N ''' -f /root/.ssh/id_ed25519")
        key = client.succeed("cat /root/.ssh/id_ed25519.pub").strip()
        server.succeed("mkdir -p -m 700 /root/.ssh", f"echo '{key}' > /root/.ssh/authorized_keys")

    with subtest("the client logs in to the server by name"):
        client.wait_for_unit("multi-user.target")
        assert "192.168.1.2 server" in client.succeed("cat /etc/hosts")
        out = client.succeed(f"{ssh} root@server 'echo hello from $(hostname)'")
        assert out.strip() == "hello from server", f"unexpected answer: {out}"

    with subtest("a blocked server cannot be reached"):
        server.block()
        client.fail(f"{ssh} root@server true")

    with subtest("the server is reachable again once unblocked"):
        server.unblock()
        client.wait_until_succeeds(f"{ssh} root@server true", timeout=60)
  '';
}
