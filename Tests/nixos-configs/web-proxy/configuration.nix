# A small web host: nginx terminates TLS for a static site and for an app it proxies to on
# localhost, with NixOS's recommended settings; the app is a script the configuration writes;
# fail2ban watches SSH; the admins come from a shared module.
{ config, lib, pkgs, ... }:

let
  domain = "example.test";
  tls = {
    sslCertificate = ./tls/cert.pem;
    sslCertificateKey = ./tls/key.pem;
  };
  site = pkgs.writeTextDir "index.html" ''
    <!doctype html>
    <title>${domain}</title>
    <p>Served by ${config.networking.hostName}.</p>
  '';
  appPort = 8000;
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "web";
  networking.domain = domain;
  networking.firewall.allowedTCPPorts = [ 80 443 ];

  time.timeZone = "UTC";

  services.nginx = {
    enable = true;
    recommendedTlsSettings = true;
    recommendedOptimisation = true;
    recommendedGzipSettings = true;
    recommendedProxySettings = true;
    virtualHosts."www.${domain}" = tls // {
      forceSSL = true;
      root = "${site}";
    };
    virtualHosts."app.${domain}" = tls // {
      onlySSL = true;
      locations."/".proxyPass = "http://127.0.0.1:${toString appPort}";
      locations."/health".return = "200 'ok'";
    };
  };

  # The app: a few lines of Python the configuration writes, run without an account of its own.
  systemd.services.hello-app = {
    description = "The app behind app.${domain}";
    wantedBy = [ "multi-user.target" ];
    after = [ "network.target" ];
    serviceConfig = {
      DynamicUser = true;
      ExecStart = "${pkgs.python3}/bin/python3 ${pkgs.writeText "app.py" ''
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class App(BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"hello from the app, you asked for {self.path}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        HTTPServer(("127.0.0.1", ${toString appPort}), App).serve_forever()
      ''}";
      Restart = "on-failure";
    };
  };

  services.fail2ban = {
    enable = true;
    maxretry = 3;
    ignoreIP = [ "127.0.0.0/8" ];
  };

  environment.systemPackages = with pkgs; [ curl htop ];

  system.stateVersion = "23.11";
}
