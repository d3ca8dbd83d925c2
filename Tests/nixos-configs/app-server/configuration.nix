# A PHP application server, the classic LEMP host: nginx hands *.php to a PHP-FPM pool over
# its socket, the pool runs as the app's own account, which logs in to MariaDB by that
# socket (no password anywhere); the app's code is a store path the configuration writes,
# its uploads a state directory; outgoing mail waits in RabbitMQ; the admins come from a
# shared module.
{ config, lib, pkgs, ... }:

let
  app = "guestbook";
  domain = "guestbook.example.test";
  # The application: one page that counts its visits in MariaDB and says which PHP it runs.
  code = pkgs.writeTextDir "index.php" ''
    <?php
    $db = new PDO("mysql:unix_socket=/run/mysqld/mysqld.sock;dbname=${app}", "${app}", "");
    $db->exec("CREATE TABLE IF NOT EXISTS visits (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)");
    $db->exec("INSERT INTO visits () VALUES ()");
    $n = $db->query("SELECT COUNT(*) FROM visits")->fetchColumn();
    header("Content-Type: text/plain");
    echo "visits: $n\n";
    echo "php: " . PHP_MAJOR_VERSION . "." . PHP_MINOR_VERSION . "\n";
    echo "user: " . posix_getpwuid(posix_geteuid())["name"] . "\n";
    echo "timezone: " . ini_get("date.timezone") . "\n";
    echo "memory_limit: " . ini_get("memory_limit") . "\n";
    echo "env: " . getenv("APP_ENV") . "\n";
  '';
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "apps";
  networking.firewall.allowedTCPPorts = [ 80 ];

  time.timeZone = "Europe/Berlin";

  users.users.${app} = {
    isSystemUser = true;
    group = app;
    home = "/var/lib/${app}";
    createHome = true;
  };
  users.groups.${app} = { };

  services.phpfpm.phpOptions."date.timezone" = config.time.timeZone;
  services.phpfpm.pools.${app} = {
    user = app;
    phpEnv.APP_ENV = "production";
    phpOptions.memory_limit = "64M";
    settings = {
      "listen.owner" = config.services.nginx.user;
      "pm" = "dynamic";
      "pm.max_children" = 8;
      "pm.start_servers" = 2;
      "pm.min_spare_servers" = 1;
      "pm.max_spare_servers" = 3;
    };
  };

  services.nginx = {
    enable = true;
    recommendedOptimisation = true;
    recommendedGzipSettings = true;
    virtualHosts.${domain} = {
      default = true;
      root = "${code}";
      locations."/".index = "index.php";
      locations."~ \\.php$".extraConfig = ''
        fastcgi_pass unix:${config.services.phpfpm.pools.${app}.socket};
      '';
    };
  };

  services.mysql = {
    enable = true;
    package = pkgs.mariadb;
    ensureDatabases = [ app ];
    ensureUsers = [
      { name = app; ensurePermissions."${app}.*" = "ALL PRIVILEGES"; }
    ];
  };

  # The app hands its outgoing mail to a worker through RabbitMQ, on this host only; the
  # management API is how the team looks at the queue.
  services.rabbitmq = {
    enable = true;
    managementPlugin.enable = true;
    configItems = {
      "vm_memory_high_watermark.relative" = "0.3";
      "default_vhost" = app;
    };
  };

  environment.systemPackages = with pkgs; [ phpExtensions.pdo_mysql curl ];

  system.stateVersion = "24.05";
}
