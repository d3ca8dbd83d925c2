# The team's internal documentation and downloads server: the handbook as static pages
# (addresses without .html work), a downloads directory that nginx lists, with a checksum
# file refreshed every hour, a private section behind a password, and nginx's status page
# for the local monitoring agent only.
{ config, lib, pkgs, ... }:

let
  downloads = "/srv/downloads";
  handbook = pkgs.linkFarm "handbook" {
    "index.html" = pkgs.writeText "index.html" "<h1>Team handbook</h1>\n<a href=\"onboarding\">Onboarding</a>\n";
    "onboarding.html" = pkgs.writeText "onboarding.html" "<h1>Onboarding</h1>\n<p>Ask for a laptop on day one.</p>\n";
    "private/salaries.html" = pkgs.writeText "salaries.html" "<h1>Salary bands</h1>\n";
  };
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "docs";
  networking.firewall.allowedTCPPorts = [ 80 ];
  time.timeZone = "UTC";

  services.nginx = {
    enable = true;
    statusPage = true;
    recommendedGzipSettings = true;
    virtualHosts.docs = {
      default = true;
      serverAliases = [ "docs.lan" ];
      root = handbook;
      locations."/".tryFiles = "$uri $uri.html $uri/ =404";
      locations."/downloads/" = {
        alias = "${downloads}/";
        extraConfig = ''
          autoindex on;
          autoindex_exact_size off;
        '';
      };
      # The team leads, their hashes from `openssl passwd -6`.
      locations."/private/".basicAuthFile = ./leads.htpasswd;
    };
  };

  systemd.tmpfiles.rules = [ "d ${downloads} 0775 root users -" ];

  systemd.services.downloads-checksums = {
    description = "Checksums of the downloads";
    startAt = "hourly";
    path = [ pkgs.coreutils pkgs.findutils ];
    serviceConfig.Type = "oneshot";
    script = ''
      cd ${downloads}
      find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%P\0' | sort -z | xargs -0r sha256sum -- > SHA256SUMS.new
      mv SHA256SUMS.new SHA256SUMS
    '';
  };

  system.stateVersion = "23.11";
}
