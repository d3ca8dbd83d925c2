# A band's website on Caddy: Caddy gets the certificates by itself (no security.acme), the
# www name serves the same site, the old tour page goes to the shows, and pages are
# compressed.
{ config, lib, pkgs, ... }:

let
  site = pkgs.writeTextDir "index.html" ''
    <!doctype html>
    <title>The Kiln Cats</title>
    <h1>The Kiln Cats</h1>
    <p>New record out now. <a href="/shows">Shows</a></p>
  '';
in
{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "band";

  services.caddy = {
    enable = true;
    email = "webmaster@kilncats.example.test";
    openFirewall = true;
    virtualHosts."kilncats.example.test" = {
      serverAliases = [ "www.kilncats.example.test" ];
      extraConfig = ''
        encode gzip
        redir /tour /shows 301
        respond /shows "Next show: Friday at the Old Mill" 200
        root * ${site}
        file_server
      '';
    };
  };

  system.stateVersion = "24.05";
}
