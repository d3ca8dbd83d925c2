# A default virtual host with a static root and a proxied location.
{ ... }:
{
  services.nginx = {
    enable = true;
    recommendedProxySettings = true;
    virtualHosts."example.org" = {
      default = true;
      serverAliases = [ "www.example.org" ];
      root = "/etc/kiln-www";
      locations."/api/".proxyPass = "http://127.0.0.1:8080";
      locations."/old".return = "301 /new";
      locations."/".tryFiles = "$uri $uri/ =404";
    };
  };
  networking.firewall.allowedTCPPorts = [ 80 ];
}
