# profiles/server.nix in a VM: sshd and nginx come up from their NixOS options, the web
# root is served, alice logs in on the console with her password (a wrong one is refused)
# and logs out, and sudo behaves as
# security.sudo.wheelNeedsPassword says (a second node turns it off). The second node also
# carries the programs.* a workstation sets, each checked doing its job, and
# security.sudo.extraRules in every form NixOS accepts, and a WireGuard tunnel between the
# two nodes in both of NixOS's forms. Each generated configuration file
# that has a checker passes it on the machine, as NixOS checks them at build time.
{
  name = "server";
  nodes.server = {
    imports = [ ../profiles/server.nix ];
    # A tunnel to the second node in wg-quick's form, the key in the configuration.
    networking.firewall.allowedUDPPorts = [ 51820 ];
    networking.wg-quick.interfaces.wg0 = {
      address = [ "10.100.0.1/24" ];
      listenPort = 51820;
      privateKey = "ANdU0J6VNOV1P592kmwD3ER3PvwDQ58bjVed0uF6y3E=";
      peers = [ { publicKey = "CVlnSxRvW5Snd2vf8JnYVH4KHPa4AOX1a/htb+g6THM="; allowedIPs = [ "10.100.0.2/32" ]; endpoint = "relaxed:51820"; } ];
      postUp = "touch /run/wg0-post-up";
    };
  };
  nodes.relaxed = { lib, pkgs, ... }: {
    imports = [ ../profiles/server.nix ];
    networking.hostName = lib.mkForce "relaxed";
    security.sudo.wheelNeedsPassword = false;
    programs.zsh = { enable = true; shellAliases.g = "git"; };
    users.users.alice.shell = pkgs.zsh;
    programs.fish.enable = true;
    programs.neovim = { enable = true; defaultEditor = true; vimAlias = true; configure.customRC = "set number"; };
    programs.git = { enable = true; config.init.defaultBranch = "trunk"; };
    programs.tmux = { enable = true; shortcut = "a"; keyMode = "vi"; };
    programs.htop = { enable = true; settings.tree_view = true; };
    programs.bash.shellAliases.hello = "echo hello from bash.bashrc";
    users.users.bob = { isNormalUser = true; hashedPasswordFile = "/root/bob-hash"; };
    # bob's rule is the one the script uses; the others are there for visudo to judge, each
    # form once (uid 1000 is alice, whose sudo as root they must not change).
    security.sudo.extraRules = [
      { users = [ "bob" ]; runAs = "root"; commands = [ { command = "/usr/bin/id"; options = [ "NOPASSWD" ]; } ]; }
      { users = [ 1000 ]; groups = [ "users" 100 ]; host = "relaxed"; runAs = ":users";
        commands = [ "/usr/bin/true" { command = ''/usr/bin/env ""''; options = [ "SETENV" "NOEXEC" "LOG_INPUT" "LOG_OUTPUT" ]; } ]; }
      { groups = [ "wheel" ]; commands = [ { command = "/usr/bin/uptime"; options = [ "PASSWD" "EXEC" "NOSETENV" "NOLOG_INPUT" "NOLOG_OUTPUT" ]; } ]; }
    ];
    security.sudo.extraConfig = "Defaults:bob !lecture";
    services.cron = { enable = true; systemCronJobs = [ "* * * * * root date >> /tmp/cron-ran" ]; };
    services.logrotate = { enable = true; settings."/var/log/kiln-test.log" = { rotate = 3; missingok = true; compress = true; }; };
    services.redis.servers."" = { enable = true; settings.maxmemory = "32mb"; };
    services.postgresql = {
      enable = true;
      ensureDatabases = [ "kiln" ];
      ensureUsers = [ { name = "kiln"; ensureDBOwnership = true; } ];
      initialScript = ./postgresql-initial.sql;
      settings.max_connections = 42;
    };
    # NixOS's 120 s start timeout covers initdb, which runs in ExecStartPre. On this node it
    # shares one emulated CPU (TCG) with MariaDB's install, Prometheus and the rest starting at
    # once, beside another QEMU: initdb alone took 140 s in a CI run and systemd killed it.
    systemd.services.postgresql.serviceConfig.TimeoutSec = lib.mkForce 600;
    services.postgresqlBackup = { enable = true; databases = [ "kiln" ]; };
    services.fail2ban = { enable = true; maxretry = 4; ignoreIP = [ "10.0.2.2" ]; };
    services.mysql = {
      enable = true;
      package = pkgs.mariadb;
      settings.mysqld.max_connections = 42;
      initialDatabases = [ { name = "shop"; schema = ./mysql-shop.sql; } ];
      initialScript = ./mysql-initial.sql;
      ensureDatabases = [ "kiln" ];
      ensureUsers = [ { name = "alice"; ensurePermissions = { "kiln.*" = "ALL PRIVILEGES"; "shop.items" = "SELECT"; }; } ];
    };
    services.prometheus = {
      enable = true;
      globalConfig.scrape_interval = "5s";
      scrapeConfigs = [ { job_name = "node"; static_configs = [ { targets = [ "localhost:9100" ]; labels.role = "kiln-test"; } ]; } ];
      exporters.node = { enable = true; disabledCollectors = [ "timex" ]; };
    };
    # The other end, in networking.wireguard's form, the key in a file on the machine.
    networking.firewall.allowedUDPPorts = [ 51820 ];
    environment.etc."wg/relaxed.key" = { text = "eL7SW8JP4pm0WW/d6XfhK8KOpKUXqFTeQpjsWhgKBGk="; mode = "0400"; };
    networking.wireguard.interfaces.wg0 = {
      ips = [ "10.100.0.2/24" ];
      listenPort = 51820;
      privateKeyFile = "/etc/wg/relaxed.key";
      peers = [ { publicKey = "l/VZsE429ga2/sPqXSDPquPkIzwQxphfhXyFXzKQz3s="; allowedIPs = [ "10.100.0.1/32" ]; endpoint = "server:51820"; persistentKeepalive = 5; } ];
    };
    services.mosquitto = {
      enable = true;
      listeners = [ {
        users.sensor = { password = "mqtt-secret"; acl = [ "readwrite kiln/#" ]; };
        users.reader = { password = "read-only"; acl = [ "read kiln/#" ]; };
      } ];
    };
  };
  testScript = ''
    start_all()

    with subtest("sshd and nginx are active"):
        server.wait_for_unit("sshd.service")
        server.wait_for_unit("nginx.service")
        server.succeed("systemctl is-active sshd nginx firewall")
        server.wait_for_open_port(22)
        server.wait_for_open_port(80)

    with subtest("nginx serves the configured root"):
        page = server.succeed("curl -fsS http://localhost/")
        assert "<h1>Served by Kiln</h1>" in page, f"unexpected page: {page}"
        server.fail("curl -fsS http://localhost/missing.html")

    with subtest("the firewall admits only the allowed ports"):
        rules = server.succeed("nft list ruleset")
        assert "22" in rules and "80" in rules, rules

    with subtest("no password is in the image, only its hash"):
        shadow = server.succeed("grep '^alice:' /etc/shadow")
        assert "wonderland" not in shadow and shadow.split(":")[1].startswith("$6$"), shadow
        # grep exits 1 when nothing matches (2 on an error, which would fail here too).
        status, found = server.execute("grep -rlsI wonderland /etc/static/ /etc/passwd /etc/shadow")
        assert status == 1 and found.strip() == "", f"the plaintext password is in {found}"

    with subtest("a wrong password is refused on the console"):
        server.wait_for_unit("serial-getty@ttyS0.service")
        server.wait_for_console_text("server login: ")
        server.send_console("alice\n")
        server.wait_for_console_text("Password: ")
        server.send_console("not-the-password\n")
        server.wait_for_console_text("Login incorrect")

    with subtest("alice logs in on the console with her password"):
        server.wait_for_console_text("login: ")
        server.send_console("alice\n")
        server.wait_for_console_text("Password: ")
        server.send_console("wonderland\n")
        server.wait_for_console_text(r"\$ ")
        server.send_console("echo logged-in-as-$(id -un)-$((6 * 7)) > /tmp/login-proof; id -nG > /tmp/alice-groups\n")
        server.wait_for_file("/tmp/alice-groups")
        assert server.succeed("cat /tmp/login-proof").strip() == "logged-in-as-alice-42"
        assert "alice" in server.succeed("stat -c %U /tmp/login-proof")
        assert "wheel" in server.succeed("cat /tmp/alice-groups").split()

    with subtest("logging out ends the session"):
        server.send_console("exit\n")
        server.wait_for_console_text("server login: ")
        server.screenshot("console")

    with subtest("sudo asks wheel for a password by default"):
        status, out = server.execute("su - alice -c 'sudo -n true' 2>&1")
        assert status != 0 and "password is required" in out, f"sudo -n as alice: {status} {out}"

    with subtest("with wheelNeedsPassword = false, wheel needs none"):
        relaxed.wait_for_unit("multi-user.target")
        assert relaxed.succeed("su - alice -c 'sudo -n id -u'").strip() == "0"

    with subtest("programs.* do their jobs"):
        assert relaxed.succeed("getent passwd alice").strip().endswith(":/bin/zsh")
        assert relaxed.succeed("su - alice -c 'zsh -ic \"alias g\" 2>/dev/null </dev/null'").strip() == "g=git"
        assert relaxed.succeed("fish -c 'echo fish'").strip() == "fish"
        assert relaxed.succeed("nvim --headless +'echo &number' +q 2>&1").strip() == "1"
        assert "nvim" in relaxed.succeed("bash -lc 'echo $EDITOR'")
        relaxed.succeed("cd /tmp && git init -q repo && test \"$(git -C repo symbolic-ref HEAD)\" = refs/heads/trunk")
        assert "C-a" in relaxed.succeed("tmux -f /etc/tmux.conf new-session -d && tmux show -g prefix; tmux kill-server")
        assert relaxed.succeed("setsid -w bash -ic hello </dev/null 2>/dev/null").strip() == "hello from bash.bashrc"
        relaxed.succeed("grep -qx tree_view=1 /etc/htoprc && htop --version")

    with subtest("hashedPasswordFile: the hash comes from the machine at activation"):
        relaxed.succeed("grep -q '^bob:!:' /etc/shadow")
        relaxed.succeed("echo '$6$kiln$0123456789abcdef' > /root/bob-hash && /run/current-system/activate")
        relaxed.succeed("grep -qF 'bob:$6$kiln$0123456789abcdef:' /etc/shadow")

    with subtest("cron runs /etc/crontab's jobs; logrotate's timer and configuration"):
        relaxed.wait_until_succeeds("test -s /tmp/cron-ran", timeout=90)
        relaxed.succeed("systemctl is-active logrotate.timer")
        status, out = relaxed.execute("echo x > /var/log/kiln-test.log && logrotate -v -f /etc/logrotate.d/kiln 2>&1 && test -e /var/log/kiln-test.log.1.gz")
        assert status == 0, f"logrotate: {status} {out}"
        relaxed.succeed("systemctl start logrotate.service")

    with subtest("services.redis.servers: a server answers on its port and its socket, with its settings"):
        relaxed.wait_for_unit("redis.service")
        relaxed.wait_for_open_port(6379)
        assert relaxed.succeed("redis-cli ping").strip() == "PONG"
        relaxed.succeed("redis-cli -s /run/redis/redis.sock set kiln works")
        assert relaxed.succeed("redis-cli get kiln").strip() == "works"
        assert "33554432" in relaxed.succeed("redis-cli config get maxmemory")

    with subtest("services.postgresql: initdb, initialScript once, ensureDatabases and ensureUsers, settings"):
        relaxed.wait_for_unit("postgresql.service")
        q = "runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -tA -h /run/postgresql -d postgres -c "
        assert relaxed.succeed(q + "'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $$kiln$$'").strip() == "kiln"
        assert relaxed.succeed(q + "'SELECT count(*) FROM kiln_initial'").strip() == "1"
        assert relaxed.succeed(q + "'SHOW max_connections'").strip() == "42"
        relaxed.succeed("systemctl restart postgresql.service")
        assert relaxed.succeed(q + "'SELECT count(*) FROM kiln_initial'").strip() == "1"
        relaxed.succeed("systemctl is-active postgresqlBackup-kiln.timer")
        relaxed.succeed("systemctl start postgresqlBackup-kiln.service")
        assert "CREATE DATABASE kiln" in relaxed.succeed("zcat /var/backup/postgresql/kiln.sql.gz")

    with subtest("services.fail2ban: the sshd jail reads the journal, and a ban reaches nftables"):
        relaxed.wait_for_unit("fail2ban.service")
        relaxed.wait_until_succeeds("fail2ban-client ping", timeout=60)
        assert "sshd" in relaxed.succeed("fail2ban-client status"), relaxed.succeed("fail2ban-client status")
        jail = relaxed.succeed("fail2ban-client get sshd maxretry; fail2ban-client get sshd ignoreip")
        assert "4" in jail and "10.0.2.2" in jail, jail
        relaxed.succeed("fail2ban-client set sshd banip 192.0.2.7")
        status = relaxed.succeed("fail2ban-client status sshd")
        assert "192.0.2.7" in status and "_SYSTEMD_UNIT=sshd.service" in status, status
        rules = relaxed.succeed("nft list ruleset")
        assert "addr-set-sshd" in rules and "192.0.2.7" in rules, rules
        relaxed.succeed("fail2ban-client set sshd unbanip 192.0.2.7")
        assert "192.0.2.7" not in relaxed.succeed("nft list set inet f2b-table addr-set-sshd")

    with subtest("services.mysql: install on first start, initialDatabases and initialScript once, ensureUsers, settings"):
        relaxed.wait_for_unit("mysql.service")
        mysql = "runuser -u alice -- mariadb -N -e "
        assert relaxed.succeed(mysql + "'SELECT CURRENT_USER()'").strip() == "alice@localhost"
        relaxed.succeed(mysql + "'CREATE TABLE kiln.t (x INT); INSERT INTO kiln.t VALUES (7)'")
        assert relaxed.succeed(mysql + "'SELECT name FROM shop.items'").strip() == "kiln"
        relaxed.fail(mysql + "'SELECT * FROM shop.runs'")
        assert relaxed.succeed("mariadb -N -e 'SELECT @@max_connections'").strip() == "42"
        assert relaxed.succeed("mariadb -N -e 'SELECT count(*) FROM shop.runs'").strip() == "1"
        relaxed.succeed("systemctl restart mysql.service")
        assert relaxed.succeed("mariadb -N -e 'SELECT count(*) FROM shop.runs'").strip() == "1"
        assert relaxed.succeed(mysql + "'SELECT x FROM kiln.t'").strip() == "7"

    with subtest("services.prometheus: the node exporter serves metrics, and prometheus scrapes them"):
        relaxed.wait_for_unit("prometheus-node-exporter.service")
        relaxed.wait_for_open_port(9100)
        metrics = relaxed.succeed("curl -fsS http://localhost:9100/metrics")
        assert "node_load1" in metrics and "node_timex_" not in metrics, "the node exporter's collectors are not as configured"
        relaxed.succeed("promtool check config /etc/prometheus/prometheus.yml")
        relaxed.wait_for_unit("prometheus.service")
        relaxed.wait_for_open_port(9090)
        relaxed.wait_until_succeeds("curl -fsS http://localhost:9090/api/v1/targets | grep -q '\"health\":\"up\"'", timeout=120)
        targets = relaxed.succeed("curl -fsS http://localhost:9090/api/v1/targets")
        assert '"scrapeUrl":"http://localhost:9100/metrics"' in targets and '"job":"node"' in targets, targets
        load = relaxed.succeed("curl -fsS --get --data-urlencode query=node_load1 http://localhost:9090/api/v1/query")
        assert '"role":"kiln-test"' in load, load

    with subtest("services.mosquitto: configured users publish and subscribe as their ACL allows, others are refused"):
        relaxed.wait_for_unit("mosquitto.service")
        relaxed.wait_for_open_port(1883)
        sensor = "-h localhost -u sensor -P mqtt-secret -t kiln/test"
        relaxed.succeed(f"mosquitto_pub {sensor} -r -m hello")
        assert relaxed.succeed(f"mosquitto_sub {sensor} -C 1 -W 20").strip() == "hello"
        # A publish the ACL forbids is dropped by the broker, so the retained message stays.
        relaxed.succeed("mosquitto_pub -h localhost -u reader -P read-only -t kiln/test -r -m overwritten")
        assert relaxed.succeed("mosquitto_sub -h localhost -u reader -P read-only -t kiln/test -C 1 -W 20").strip() == "hello"
        for who in ["-u nobody -P guess", "-u sensor -P wrong", ""]:
            status, out = relaxed.execute(f"mosquitto_sub -h localhost {who} -t kiln/test -C 1 -W 10 2>&1")
            assert status != 0 and "not authorised" in out, f"{who}: {status} {out}"
        passwd = relaxed.succeed("cat /var/lib/mosquitto/passwd-0")
        assert "mqtt-secret" not in passwd and "sensor:$7$" in passwd and "reader:$7$" in passwd, passwd

    with subtest("security.sudo.extraRules: bob may run id as root without a password, and nothing else"):
        assert relaxed.succeed("su - bob -c 'sudo -n /usr/bin/id -u'").strip() == "0"
        for refused in ["sudo -n /usr/bin/whoami", "sudo -n -u alice /usr/bin/id -u"]:
            status, out = relaxed.execute(f"su - bob -c '{refused}' 2>&1")
            # sudo -n refuses as it would ask for the password first, so as not to tell bob which commands exist.
            assert status != 0 and ("password is required" in out or "not allowed" in out), f"{refused} as bob: {status} {out}"

    with subtest("WireGuard: wg-quick on one node, networking.wireguard (key from a file) on the other, ping through the tunnel"):
        server.wait_for_unit("wg-quick-wg0.service")
        relaxed.wait_for_unit("wireguard-wg0.service")
        relaxed.wait_until_succeeds("ping -c 1 -W 2 10.100.0.1", timeout=60)
        server.succeed("ping -c 1 -W 2 10.100.0.2")
        handshake = server.succeed("wg show wg0 latest-handshakes").split()
        assert len(handshake) == 2 and handshake[1] != "0", handshake
        server.succeed("test -e /run/wg0-post-up")
        assert relaxed.succeed("wg show wg0 private-key").strip() == "eL7SW8JP4pm0WW/d6XfhK8KOpKUXqFTeQpjsWhgKBGk="
        assert "PrivateKey" not in relaxed.succeed("cat /etc/wireguard/wg0.conf")
        for machine in [server, relaxed]:
            assert machine.succeed("stat -L -c %a /etc/wireguard/wg0.conf").strip() == "600"

    with subtest("each generated configuration file passes its program's check"):
        for machine in [server, relaxed]:
            # -O and -P: also root's ownership and mode 0440, which sudo insists on.
            out = machine.succeed("visudo -c -s -O -P -f /etc/sudoers 2>&1")
            assert "parsed OK" in out, out
            machine.succeed("sshd -t -f /etc/ssh/sshd_config")
            out = machine.succeed("nginx -t -c /etc/nginx/nginx.conf -e stderr 2>&1")
            assert "test is successful" in out, out
            machine.succeed("nft -c -f /etc/kiln/firewall.nft")
        assert "configuration test is successful" in relaxed.succeed("fail2ban-client -t 2>&1")
        relaxed.succeed("logrotate -d /etc/logrotate.d/kiln")
        relaxed.succeed("runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15 -C config_file")
        # The checks can fail: visudo refuses the same file with a broken rule added.
        relaxed.succeed("cp /etc/sudoers /tmp/sudoers.bad && echo 'bob ALL=(root' >> /tmp/sudoers.bad")
        relaxed.fail("visudo -c -f /tmp/sudoers.bad")
  '';
}
