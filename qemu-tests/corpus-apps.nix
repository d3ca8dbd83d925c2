# The corpus's PHP application server (Tests/nixos-configs/app-server), unchanged, booted as
# the machine it describes: nginx passes the page to the PHP-FPM pool by its socket, the pool
# runs as the app's account with its php.ini options and environment, and the app keeps its
# visits in MariaDB, logged in by that account's socket; php-fpm and nginx accept their
# generated configuration; RabbitMQ takes the mail queue's message and hands it back. Beside
# it the team's Git server (Tests/nixos-configs/git-server): the app server pushes and clones
# over SSH, git-shell refuses a command, and the nightly bundle restores what was pushed.
{
  name = "corpus-apps";
  nodes.apps = { pkgs, ... }: {
    imports = [ ../Tests/nixos-configs/app-server/configuration.nix ];
    # The test's own client beside the configuration, as a NixOS test adds one.
    environment.systemPackages = [ pkgs.git ];
  };
  nodes.git = { imports = [ ../Tests/nixos-configs/git-server/configuration.nix ]; };
  testScript = ''
    start_all()
    # Not multi-user.target: it waits for RabbitMQ, checked last.
    apps.wait_for_unit("network.target")

    with subtest("apps: php-fpm and nginx accept their generated configuration"):
        apps.wait_for_unit("phpfpm-guestbook.service")
        apps.succeed("php-fpm8.2 -t -y /etc/phpfpm/guestbook.conf -c /run/phpfpm/guestbook.ini")
        apps.succeed("nginx -t -c /etc/nginx/nginx.conf")
        # What Debian's phpenmod would have enabled: PDO (php8.2-common), pdo_mysql (php-mysql).
        apps.succeed("test -L /run/phpfpm/guestbook.d/10-pdo.ini && test -L /run/phpfpm/guestbook.d/20-pdo_mysql.ini")
        # The socket is the web server's to use, as listen.owner says.
        assert apps.succeed("stat -c '%U %a' /run/phpfpm/guestbook.sock").strip() == "www-data 660"

    with subtest("apps: the page runs in the pool, counts visits in MariaDB, sees its options"):
        apps.wait_for_unit("nginx.service")
        apps.wait_for_unit("mysql.service")
        apps.wait_for_open_port(80)
        ip = apps.succeed("ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1").strip()
        first = apps.succeed(f"curl -sf http://{ip}/")
        lines = dict(l.split(": ", 1) for l in first.strip().splitlines())
        assert lines["php"] == "8.2", first
        assert lines["user"] == "guestbook", first
        assert lines["timezone"] == "Europe/Berlin", first
        assert lines["memory_limit"] == "64M", first
        assert lines["env"] == "production", first
        second = apps.succeed(f"curl -sf http://{ip}/index.php")
        assert f"visits: {int(lines['visits']) + 1}" in second, (first, second)
        # The account logs in by its socket; nobody else gets its database.
        assert apps.succeed("runuser -u guestbook -- mariadb -N -e 'SELECT COUNT(*) FROM guestbook.visits'").strip() == str(int(lines["visits"]) + 1)
        apps.fail("runuser -u nobody -- mariadb -N -e 'SELECT 1 FROM guestbook.visits'")

    with subtest("git: the repositories are there, pushed to and fetched over SSH, bundled"):
        git.wait_for_unit("git-repositories.service")
        assert git.succeed("ls /srv/git").split() == ["handbook.git", "infrastructure.git", "website.git"]
        # The test's key beside the developers' (an authorized_keys of the account's own).
        apps.succeed("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N \"\" -f /root/.ssh/id_ed25519")
        key = apps.succeed("cat /root/.ssh/id_ed25519.pub").strip()
        git.succeed(f"install -d -m 700 -o git -g git /srv/git/.ssh && echo '{key}' > /srv/git/.ssh/authorized_keys && chown git /srv/git/.ssh/authorized_keys")
        git.wait_for_unit("sshd.service")
        git.wait_for_open_port(22)
        ssh = "GIT_SSH_COMMAND='ssh -o StrictHostKeyChecking=no'"
        apps.succeed(
            "cd /root && git init -q -b main site && cd site && echo hello > index.html && git add . "
            + "&& git -c user.name=ci -c user.email=ci@example.test commit -q -m first "
            + f"&& {ssh} git push -q git@git:website.git main"
        )
        assert apps.succeed(f"cd /root && {ssh} git clone -q git@git:website.git copy && cat copy/index.html").strip() == "hello"
        # git-shell: no shell, no command beyond Git's.
        out = apps.fail("ssh -o StrictHostKeyChecking=no git@git id 2>&1")
        assert "unrecognized command" in out, out
        git.succeed("systemctl start git-bundles.service")
        # The bundle restores the pushed history.
        assert git.succeed("git clone -q /var/backups/git/website.bundle /root/restored && cat /root/restored/index.html").strip() == "hello"
        git.fail("test -e /var/backups/git/handbook.bundle")  # nothing pushed yet, nothing bundled
        git.succeed("systemctl list-timers git-bundles.timer --no-legend | grep -q git-bundles")

    with subtest("apps: RabbitMQ queues a mail for the worker and hands it back, with the configuration's settings"):
        # Its Erlang node takes about 45 s of CPU to start under TCG: checked last, so the
        # other checks run meanwhile.
        apps.wait_for_unit("rabbitmq.service", timeout=900)
        apps.wait_for_open_port(5672)
        apps.wait_for_open_port(15672)
        api = "curl -sSf -u guest:guest -H 'content-type: application/json'"
        # A queue in the configuration's default vhost; a message through the default exchange.
        apps.succeed(f"{api} -X PUT -d '{{\"durable\":true}}' http://127.0.0.1:15672/api/queues/guestbook/mail")
        sent = apps.succeed(f"{api} -X POST -d '{{\"properties\":{{}},\"routing_key\":\"mail\",\"payload\":\"to: alice\",\"payload_encoding\":\"string\"}}' http://127.0.0.1:15672/api/exchanges/guestbook/amq.default/publish")
        assert '"routed":true' in sent, sent
        got = apps.succeed(f"{api} -X POST -d '{{\"count\":1,\"ackmode\":\"ack_requeue_false\",\"encoding\":\"auto\"}}' http://127.0.0.1:15672/api/queues/guestbook/mail/get")
        assert '"payload":"to: alice"' in got, got
        # rabbitmq.conf from configItems; AMQP on this host only; the data under dataDir.
        assert apps.succeed("rabbitmqctl eval 'application:get_env(rabbit, vm_memory_high_watermark).'").strip() == "{ok,0.3}"
        listening = apps.succeed("ss -Hltn 'sport = :5672' | awk '{print $4}'").split()
        assert listening == ["127.0.0.1:5672"], listening
        assert apps.succeed("stat -c %U /var/lib/rabbitmq/mnesia").strip() == "rabbitmq"
        apps.succeed("systemctl is-active epmd.socket")
  '';
}
