# security.acme against a real ACME server on the test LAN: Debian's pebble (the Let's
# Encrypt test server) on one node, with pebble-challtestsrv as its DNS; on the other, nginx
# with enableACME and forceSSL: the corpus's personal site. nginx starts on the self-signed
# stand-in, lego gets the real certificate over HTTP-01 through nginx's webroot, and nginx is
# reloaded onto it; then the site's redirects, HSTS, fail2ban and the admins' services. A
# third node is the corpus's band site on Caddy, which gets its certificates by itself.
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
    networking.firewall.allowedTCPPorts = [ 14000 80 443 ];
    # The ACME server's machine also serves a site with Apache, whose certificate comes from
    # that server the way the web host's does (the HTTP-01 files through Apache's Alias).
    services.httpd = {
      enable = true;
      virtualHosts."apache.example.test" = {
        forceSSL = true;
        enableACME = true;
        documentRoot = pkgs.writeTextDir "index.html" "<h1>Apache with a certificate</h1>\n";
      };
    };
    security.acme = { acceptTerms = true; defaults = { email = "ops@example.test"; server = "https://acme:14000/dir"; }; };
    systemd.services."acme-apache.example.test".environment.LEGO_CA_CERTIFICATES = "${./acme-ca/ca.pem}";
  };

  # The corpus's personal site (Tests/nixos-configs/personal-site) as the web host, pointed
  # at the test's ACME server instead of Let's Encrypt's.
  nodes.web = { pkgs, ... }: {
    imports = [ ../Tests/nixos-configs/personal-site/configuration.nix ];
    security.acme.defaults.server = "https://acme:14000/dir";
    # lego trusts the test server's own CA (a real machine trusts Let's Encrypt's already).
    systemd.services."acme-${domain}".environment.LEGO_CA_CERTIFICATES = "${./acme-ca/ca.pem}";
    # So does the whole machine (curl, OpenSSL), beside Mozilla's authorities.
    security.pki.certificateFiles = [ ./acme-ca/ca.pem ];
    environment.systemPackages = [ pkgs.openssl ];
  };

  # The corpus's band site (Tests/nixos-configs/band-site), pointed at the test's ACME server
  # and trusting its CA, as the web host is.
  nodes.band = {
    imports = [ ../Tests/nixos-configs/band-site/configuration.nix ];
    services.caddy.acmeCA = "https://acme:14000/dir";
    services.caddy.globalConfig = "acme_ca_root ${./acme-ca/ca.pem}";
  };

  testScript = ''
    import json

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

    with subtest("the trusted authorities: Mozilla's on every machine, the test's CA where the configuration adds it"):
        for m in [web, band]:
            m.wait_for_unit("kiln-ca-certificates.service")
            n = int(m.succeed("grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt"))
            assert n > 100, n
        assert "newAccount" in web.succeed("curl -fsS https://acme:14000/dir")
        web.succeed("echo | openssl s_client -connect acme:14000 -verify_return_error 2>&1 | grep -q 'Verify return code: 0'")
        band.fail("curl -fsS https://acme:14000/dir")

    with subtest("web: lego gets the certificate over HTTP-01 and nginx serves it"):
        web.wait_until_succeeds("test ! -e /var/lib/acme/${domain}/.selfsigned", timeout=180)
        issuer = web.succeed("openssl x509 -in /var/lib/acme/${domain}/cert.pem -noout -issuer")
        assert "Pebble" in issuer, issuer
        assert web.succeed("stat -c '%a %G' /var/lib/acme/${domain}/key.pem").strip() == "640 www-data"  # nginx's group (Debian's www-data)
        acme.wait_until_succeeds(
            f"echo | openssl s_client -connect {web_ip}:443 -servername ${domain} 2>/dev/null | openssl x509 -noout -issuer | grep Pebble", timeout=60)
        page = acme.succeed(f"curl -sSk --resolve ${domain}:443:{web_ip} https://${domain}/")
        assert "<h1>Sam's corner</h1>" in page, page
        web.wait_for_unit("acme-${domain}.timer")

    with subtest("band: Caddy gets certificates for both its names from the ACME server, and serves the site"):
        band_ip = acme.succeed("getent hosts band").split()[0]
        for name in ["kilncats.example.test", "www.kilncats.example.test"]:
            body = json.dumps({"host": name, "addresses": [band_ip]})
            acme.succeed(f"curl -fsS -X POST -d '{body}' http://127.0.0.1:8055/add-a")
        band.wait_for_unit("caddy.service")
        # Its first tries met no ACME server, and Caddy waits a minute or more between tries.
        band.succeed("systemctl restart caddy.service")
        for name in ["kilncats.example.test", "www.kilncats.example.test"]:
            acme.wait_until_succeeds(
                f"echo | openssl s_client -connect {band_ip}:443 -servername {name} 2>/dev/null | openssl x509 -noout -issuer | grep Pebble", timeout=120)
        curl = f"curl -sSk --resolve kilncats.example.test:80:{band_ip} --resolve kilncats.example.test:443:{band_ip} --resolve www.kilncats.example.test:443:{band_ip}"
        assert "<h1>The Kiln Cats</h1>" in acme.succeed(f"{curl} https://kilncats.example.test/")
        assert "<h1>The Kiln Cats</h1>" in acme.succeed(f"{curl} https://www.kilncats.example.test/")
        head = acme.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://kilncats.example.test/")
        assert head.split()[0] in ("301", "308") and head.split()[1] == "https://kilncats.example.test/", head
        head = acme.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' https://kilncats.example.test/tour")
        assert head == "301 https://kilncats.example.test/shows" or head == "301 /shows", head
        assert "Old Mill" in acme.succeed(f"{curl} -L https://kilncats.example.test/tour")
        assert set(band.succeed("ps -o user= -C caddy").split()) == {"caddy"}
        band.succeed("test -s /var/log/caddy/access-kilncats.example.test.log")

    with subtest("acme: Apache starts on the stand-in, gets its certificate over HTTP-01 and serves it; HTTP goes to HTTPS"):
        acme.wait_for_unit("httpd.service")
        acme_ip = acme.succeed("getent hosts acme").split()[0]
        body = json.dumps({"host": "apache.example.test", "addresses": [acme_ip]})
        acme.succeed(f"curl -fsS -X POST -d '{body}' http://127.0.0.1:8055/add-a")
        acme.wait_until_succeeds("test ! -e /var/lib/acme/apache.example.test/.selfsigned", timeout=180)
        acme.wait_until_succeeds(
            f"echo | openssl s_client -connect {acme_ip}:443 -servername apache.example.test 2>/dev/null | openssl x509 -noout -issuer | grep -q Pebble", timeout=60)
        curl = f"curl -sSk --resolve apache.example.test:80:{acme_ip} --resolve apache.example.test:443:{acme_ip}"
        assert acme.succeed(f"{curl} https://apache.example.test/") == "<h1>Apache with a certificate</h1>\n"
        head = acme.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://apache.example.test/page")
        assert head.split()[0] == "302" and head.split()[1] == "https://apache.example.test/page", head
        acme.succeed("apache2 -t -f /etc/httpd/httpd.conf")

    with subtest("web: plain HTTP goes to HTTPS, the old blog's links to the posts, browsers are told to stay"):
        curl = f"curl -sSk --resolve ${domain}:80:{web_ip} --resolve ${domain}:443:{web_ip}"
        head = acme.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://${domain}/posts/sourdough.html")
        assert head == "301 https://${domain}/posts/sourdough.html", head
        head = acme.succeed(f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' https://${domain}/blog/sourdough")
        assert head == "301 https://${domain}/posts/sourdough.html", head
        assert "Day one" in acme.succeed(f"{curl} -L http://${domain}/blog/sourdough")
        headers = acme.succeed(f"{curl} -I https://${domain}/").lower()
        assert "strict-transport-security: max-age=63072000" in headers, headers
        web.succeed("nginx -t -c /etc/nginx/nginx.conf")

    with subtest("web: fail2ban watches SSH; the admins' sshd and node exporter"):
        web.wait_for_unit("fail2ban.service")
        web.wait_until_succeeds("fail2ban-client status sshd", timeout=60)
        web.wait_for_unit("sshd.service")  # its host keys and /run/sshd
        web.succeed("sshd -t")
        web.wait_for_open_port(9100)
        assert "node_systemd_unit_state" in acme.succeed(f"curl -sf http://{web_ip}:9100/metrics")
  '';
}
