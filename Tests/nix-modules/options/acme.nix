# nginx's enableACME and useACMEHost, a DNS-01 certificate with its credentials file.
{ ... }:
{
  security.acme = {
    acceptTerms = true;
    defaults = { email = "ops@example.org"; reloadServices = [ "postfix" ]; };
    certs."example.org" = {
      dnsProvider = "rfc2136";
      credentialsFile = "/var/lib/secrets/rfc2136.env";
      extraDomainNames = [ "*.example.org" ];
      group = "certs";
    };
  };
  users.groups.certs = { };
  services.nginx = {
    enable = true;
    virtualHosts."www.example.org" = { enableACME = true; forceSSL = true; serverAliases = [ "example.net" ]; };
    virtualHosts."app.example.org" = { useACMEHost = "example.org"; onlySSL = true; };
  };
}
