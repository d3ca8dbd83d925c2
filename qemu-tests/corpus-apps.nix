# The corpus's PHP application server (Tests/nixos-configs/app-server), unchanged, booted as
# the machine it describes: nginx passes the page to the PHP-FPM pool by its socket, the pool
# runs as the app's account with its php.ini options and environment, and the app keeps its
# visits in MariaDB, logged in by that account's socket; php-fpm and nginx accept their
# generated configuration.
{
  name = "corpus-apps";
  nodes.apps = { imports = [ ../Tests/nixos-configs/app-server/configuration.nix ]; };
  testScript = ''
    apps.start()
    apps.wait_for_unit("multi-user.target")

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
  '';
}
