{ ... }:
{
  services.mysql = {
    enable = true;
    settings.mysqld = { bind-address = "127.0.0.1"; skip-name-resolve = true; plugin-load-add = [ "a.so" "b.so" ]; };
    settings.client.default-character-set = "utf8mb4";
    initialDatabases = [ { name = "shop"; schema = ./mysql-schema.sql; } ];
    ensureDatabases = [ "app" ];
    ensureUsers = [ { name = "app"; ensurePermissions."app.*" = "ALL PRIVILEGES"; } ];
  };
}
