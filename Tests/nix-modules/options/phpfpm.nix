# A PHP-FPM pool as NixOS configurations write one: its user, the socket handed to nginx,
# global and per-pool php.ini options, an environment variable, process-manager settings.
{ config, ... }:
{
  users.users.app = { isSystemUser = true; group = "app"; };
  users.groups.app = { };
  services.phpfpm.phpOptions."date.timezone" = "UTC";
  services.phpfpm.pools.app = {
    user = "app";
    phpEnv.APP_ENV = "production";
    phpOptions.memory_limit = "64M";
    settings = {
      "listen.owner" = config.services.nginx.user;
      pm = "ondemand";
      "pm.max_children" = 4;
      catch_workers_output = true;
    };
  };
  services.phpfpm.pools.admin = { user = "app"; group = "www-data"; listen = "/run/admin-php.sock"; };
}
