# A certificate without accepting the ACME server's terms.
{ ... }:
{
  services.nginx = { enable = true; virtualHosts."www.example.org" = { enableACME = true; addSSL = true; }; };
}
