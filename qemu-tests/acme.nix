# security.acme against a real ACME server on the test LAN: Debian's pebble (the Let's
# Encrypt test server) on one node, with pebble-challtestsrv as its DNS; on the other, nginx
# with enableACME and forceSSL. nginx starts on the self-signed stand-in, lego gets the real
# certificate over HTTP-01 through nginx's webroot, and nginx is reloaded onto it.
{ lib, ... }:
let
  domain = "www.example.test";
in
{
  name = "acme";

  nodes.acme = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.pebble pkgs.openssl ];
    environment.etc."pebble/config.json".text = builtins.toJSON {
      pebble = {
        listenAddress = "0.0.0.0:14000";
        managementListenAddress = "127.0.0.1:15000";
        certificate = "${./acme-ca/cert.pem}";
        privateKey = "${./acme-ca/key.pem}";
        httpPort = 80;
        tlsPort = 443;
        ocspResponderURL = "";
        externalAccountBindingRequired = false;
      };
    };
    networking.firewall.allowedTCPPorts = [ 14000 ];
  };

  nodes.web = { pkgs, ... }: {
    security.acme = {
      acceptTerms = true;
      defaults.email = "ops@example.test";
      defaults.server = "https://acme:14000/dir";
    };
    # lego trusts the test server's own CA (a real machine trusts Let's Encrypt's already).
    systemd.services."acme-${domain}".environment.LEGO_CA_CERTIFICATES = "${./acme-ca/ca.pem}";
    services.nginx = {
      enable = true;
      virtualHosts.${domain} = {
        enableACME = true;
        forceSSL = true;
        root = pkgs.writeTextDir "index.html" "hello over ACME\n";
      };
    };
    networking.firewall.allowedTCPPorts = [ 80 443 ];
    environment.systemPackages = [ pkgs.openssl ];
  };

  testScript = ''
    start_all()
    web.wait_for_unit("nginx.service")
    web_ip = acme.succeed("getent hosts web").split()[0]

    with subtest("web: nginx starts on the self-signed stand-in while no ACME server answers"):
        web.succeed("test -e /var/lib/acme/${domain}/.selfsigned")
        issuer = web.succeed("openssl x509 -in /var/lib/acme/${domain}/cert.pem -noout -issuer")
        assert "${domain}" in issuer, issuer

    with subtest("acme: pebble and its DNS, which answers every name with the web host's address"):
        acme.succeed(f"systemd-run --unit challtestsrv pebble-challtestsrv -defaultIPv4 {web_ip} -defaultIPv6 ''' -http01 ''' -https01 ''' -tlsalpn01 ''' -dns01 :8053 -management 127.0.0.1:8055")
        acme.succeed("systemd-run --unit pebble -E PEBBLE_VA_NOSLEEP=1 -E PEBBLE_WFE_NONCEREJECT=0 pebble -config /etc/pebble/config.json -dnsserver 127.0.0.1:8053")
        acme.wait_for_open_port(14000)

    with subtest("web: lego gets the certificate over HTTP-01 and nginx serves it"):
        web.wait_until_succeeds("test ! -e /var/lib/acme/${domain}/.selfsigned", timeout=180)
        issuer = web.succeed("openssl x509 -in /var/lib/acme/${domain}/cert.pem -noout -issuer")
        assert "Pebble" in issuer, issuer
        assert web.succeed("stat -c '%a %G' /var/lib/acme/${domain}/key.pem").strip() == "640 www-data"  # nginx's group (Debian's www-data)
        acme.wait_until_succeeds(
            f"echo | openssl s_client -connect {web_ip}:443 -servername ${domain} 2>/dev/null | openssl x509 -noout -issuer | grep Pebble", timeout=60)
        page = acme.succeed(f"curl -sSk --resolve ${domain}:443:{web_ip} https://${domain}/")
        assert page == "hello over ACME\n", page
        web.wait_for_unit("acme-${domain}.timer")
  '';
}
