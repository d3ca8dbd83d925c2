# Two machines on the test LAN. The server is the corpus's club shell box
# (Tests/nixos-configs/shell-server), unchanged: its admins' module lets root in by key only.
# The client logs in to it by name; members log in by key into the shell each chose and are
# greeted, cron notes who is online, sudo lets moderators read the journal and restart cron and
# nobody anything else, and logrotate rotates the club's logs. While the server's link is cut
# the connection fails, and it works again once the link is back.
{
  name = "ssh";
  nodes.server = {
    imports = [ ../Tests/nixos-configs/shell-server/configuration.nix ];
    # No password can log in as root; a key can.
    users.users.root.hashedPassword = "*";
  };
  nodes.client = { pkgs, ... }: {
    environment.systemPackages = with pkgs; [ openssh-client curl ];
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
        # The configuration names its host; the test reaches it by its node's name.
        assert out.strip() == "hello from tilde", f"unexpected answer: {out}"
        server.succeed("sshd -t")

    with subtest("members log in by key into the shell each chose, and are greeted"):
        for user in ["ana", "ben", "cleo"]:
            server.succeed(f"install -d -m 700 -o {user} -g users /home/{user}/.ssh && echo '{key}' > /home/{user}/.ssh/authorized_keys && chown {user} /home/{user}/.ssh/authorized_keys")
        assert client.succeed(f"{ssh} ana@server 'set -q FISH_VERSION; and echo fish'").strip() == "fish"
        assert client.succeed(f"{ssh} ben@server 'echo $ZSH_NAME'").strip() == "zsh"
        assert client.succeed(f"{ssh} cleo@server 'test -n \"$BASH_VERSION\" && echo bash'").strip() == "bash"
        greeting = client.succeed(f"echo exit | {ssh} -tt cleo@server 2>&1")
        assert "Welcome to the club's shell box." in greeting, greeting
        for tool in ["tmux", "vim", "git", "htop", "irssi", "lynx"]:
            client.succeed(f"{ssh} cleo@server 'command -v {tool}'")
        # Over SSH, without a terminal: an interactive zsh on the backdoor's console would take it over.
        assert client.succeed(f"{ssh} ben@server \"zsh -ic 'alias online'\"").strip() == "online='cat /var/lib/club/online'"

    with subtest("cron notes who is online"):
        server.wait_for_unit("cron.service")
        client.succeed(f"({ssh} -tt ana@server 'sleep 150' </dev/null >/dev/null 2>&1 &)")
        server.wait_until_succeeds("grep -qx ana /var/lib/club/online", timeout=130)

    with subtest("sudo lets moderators read the journal and restart cron, nothing else"):
        server.succeed("visudo -c")
        client.succeed(f"{ssh} ana@server 'sudo -n journalctl -u cron.service -n 1'")
        client.succeed(f"{ssh} ana@server 'sudo -n systemctl restart cron.service'")
        client.fail(f"{ssh} ana@server 'sudo -n id'")
        client.fail(f"{ssh} ben@server 'sudo -n journalctl -n 1'")
        server.wait_for_unit("cron.service")

    with subtest("logrotate rotates the club's logs; the admins' node exporter answers"):
        server.succeed("echo 'a post' > /var/log/club/board.log")
        server.succeed("systemctl start logrotate.service")
        server.succeed("logrotate -f /etc/logrotate.conf")
        server.succeed("test -e /var/log/club/board.log.1.gz")
        assert "node_systemd_unit_state" in client.succeed("curl -sf http://server:9100/metrics")

    with subtest("a blocked server cannot be reached"):
        server.block()
        client.fail(f"{ssh} root@server true")

    with subtest("the server is reachable again once unblocked"):
        server.unblock()
        client.wait_until_succeeds(f"{ssh} root@server true", timeout=60)
  '';
}
