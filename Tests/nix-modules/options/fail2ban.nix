{ ... }:
{
  services.openssh.enable = true;
  services.fail2ban = {
    enable = true;
    maxretry = 5;
    bantime = "1h";
    ignoreIP = [ "10.0.0.0/8" ];
    bantime-increment = { enable = true; maxtime = "48h"; };
    jails.nginx-botsearch.settings = { port = "http,https"; logpath = "/var/log/nginx/access.log"; backend = "auto"; };
    jails.custom = { filter.Definition.failregex = "^bad login from <HOST>$"; settings.logpath = "/var/log/custom.log"; };
    jails.raw = ''
      enabled = false
    '';
  };
}
