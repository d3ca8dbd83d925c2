# services.caddy: NixOS's Caddyfile (global options, a site with an alias, its log), Debian's
# unit run with it as the caddy account.
{ ... }:
{
  services.caddy = {
    enable = true;
    email = "admin@example.org";
    acmeCA = "https://acme-staging-v02.api.letsencrypt.org/directory";
    httpsPort = 8443;
    virtualHosts."example.org" = {
      serverAliases = [ "www.example.org" ];
      extraConfig = "reverse_proxy 127.0.0.1:3000";
    };
  };
}
