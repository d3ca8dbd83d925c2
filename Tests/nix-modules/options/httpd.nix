# services.httpd: a TLS host that sends HTTP to HTTPS and proxies a path, a plain host on
# its own port, an extra module; NixOS's httpd.conf shape and unit.
{ ... }:
{
  services.httpd = {
    enable = true;
    adminAddr = "webmaster@example.org";
    extraModules = [ "proxy_fcgi" ];
    virtualHosts."example.org" = {
      serverAliases = [ "www.example.org" ];
      forceSSL = true;
      sslServerCert = "/var/lib/tls/example.crt";
      sslServerKey = "/var/lib/tls/example.key";
      documentRoot = "/var/www/example";
      locations."/app/".proxyPass = "http://127.0.0.1:8000/";
      robotsEntries = "User-agent: *\nDisallow: /app/";
    };
    virtualHosts.intranet = { listen = [ { port = 8080; } ]; documentRoot = "/srv/intranet"; };
  };
}
