# Two machines on the test LAN: the client logs in to the server by name with a key; while
# the server's link is cut the connection fails, and it works again once the link is back.
let
  # openssh-server's maintainer scripts are never run: this is what they would have done.
  sshServer = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ openssh-server ];
    # The privilege-separation user (its directory, /run/sshd, is ssh.service's RuntimeDirectory).
    users.users.sshd = { uid = 101; group = "nogroup"; home = "/run/sshd"; shell = "/usr/sbin/nologin"; };
    # No password can log in as root; a key can.
    users.users.root.hashedPassword = "*";
    environment.etc."ssh/sshd_config".text = ''
      PermitRootLogin prohibit-password
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      UsePAM no
      PrintMotd no
      Subsystem sftp /usr/lib/openssh/sftp-server
    '';
    # Host keys are made at first boot.
    systemd.services.ssh-host-keys = {
      description = "SSH host keys";
      wantedBy = [ "multi-user.target" ];
      before = [ "ssh.service" ];
      serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
      script = "ssh-keygen -A";
    };
    # Debian ships ssh.service but enabling it is the postinst's job.
    environment.etc."systemd/system/multi-user.target.wants/ssh.service".source = "/lib/systemd/system/ssh.service";
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
    server.wait_for_unit("ssh.service")
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
