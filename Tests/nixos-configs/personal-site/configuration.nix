# A personal site on a small VPS: nginx serves the static pages over HTTPS with a Let's
# Encrypt certificate that the machine gets and renews by itself (security.acme, HTTP-01
# through nginx), sends plain HTTP to HTTPS, keeps the old blog's addresses working, and
# tells browsers to stay on HTTPS. fail2ban watches SSH, the only other way in.
{ config, lib, pkgs, ... }:

let
  domain = "www.example.test";
  page = title: body: ''
    <!doctype html>
    <title>${title}</title>
    <h1>${title}</h1>
    ${body}
  '';
  site = pkgs.linkFarm "site" [
    { name = "index.html"; path = pkgs.writeText "index.html" (page "Sam's corner" "<p>Notes on bikes and bread.</p>"); }
    { name = "posts/sourdough.html"; path = pkgs.writeText "sourdough.html" (page "Sourdough, again" "<p>Day one: flour and water.</p>"); }
  ];
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "corner";
  networking.firewall.allowedTCPPorts = [ 80 443 ];
  time.timeZone = "Europe/London";

  security.acme = {
    acceptTerms = true;
    defaults.email = "sam@example.test";
  };

  services.nginx = {
    enable = true;
    recommendedTlsSettings = true;
    recommendedGzipSettings = true;
    recommendedOptimisation = true;
    virtualHosts.${domain} = {
      enableACME = true;
      forceSSL = true;
      root = site;
      # The old blog lived under /blog/NAME; its links are all over the web.
      locations."~ ^/blog/(.*)$".return = "301 /posts/$1.html";
      extraConfig = ''
        add_header Strict-Transport-Security "max-age=63072000" always;
      '';
    };
  };

  services.fail2ban = {
    enable = true;
    maxretry = 5;
  };

  system.stateVersion = "24.05";
}
