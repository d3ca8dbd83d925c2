# The database server: PostgreSQL for the applications (a database and an owner role per
# application from one let list, password logins from the LAN only, a read-only reporting
# role made by the first start's script) and MariaDB for a legacy one, Redis as their cache,
# nightly dumps of both databases, and the dumps kept in a Borg repository by the site's own
# backup module.
{ config, lib, pkgs, ... }:

let
  apps = [ "shop" "wiki" ];
  lan = "192.168.1.0/24";
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
      ./backup.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "db";
  networking.firewall.allowedTCPPorts = [ config.services.postgresql.settings.port ];

  services.postgresql = {
    enable = true;
    package = pkgs.postgresql_15;
    enableTCPIP = true;
    ensureDatabases = apps;
    ensureUsers = map (name: { inherit name; ensureDBOwnership = true; }) apps;
    authentication = lib.mkAfter ''
      host all all ${lan} scram-sha-256
    '';
    initialScript = pkgs.writeText "db-init.sql" ''
      CREATE ROLE reporting WITH LOGIN PASSWORD 'reporting-secret';
      GRANT pg_read_all_data TO reporting;
    '';
    settings = {
      port = 5432;
      max_connections = 50;
      shared_buffers = "64MB";
      log_min_duration_statement = 500;
    };
  };

  services.postgresqlBackup = {
    enable = true;
    databases = apps;
    compression = "zstd";
    startAt = "*-*-* 01:00:00";
  };

  services.mysql = {
    enable = true;
    package = pkgs.mariadb;
    ensureDatabases = [ "legacy" ];
    ensureUsers = [ {
      name = "legacy";
      ensurePermissions = { "legacy.*" = "ALL PRIVILEGES"; };
    } ];
    settings.mysqld = {
      bind-address = "127.0.0.1";
      innodb_buffer_pool_size = "64M";
    };
  };

  services.mysqlBackup = {
    enable = true;
    databases = [ "legacy" ];
    singleTransaction = true;
    calendar = "01:30:00";
  };

  services.redis.servers.cache = {
    enable = true;
    port = 6379;
    settings.maxmemory = "64mb";
  };

  site.backup = {
    enable = true;
    paths = [ "/var/backup" ];
    keepDaily = 7;
  };

  users.users = lib.genAttrs apps (name: {
    isSystemUser = true;
    group = name;
    description = "The ${name} application";
  });
  users.groups = lib.genAttrs apps (name: { });

  environment.systemPackages = with pkgs; [ postgresql_15 mariadb-client redis zstd borgbackup ];

  system.stateVersion = "23.11";
}
