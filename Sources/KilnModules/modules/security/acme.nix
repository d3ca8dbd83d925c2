# security.acme (NixOS: nixos/modules/security/acme/default.nix), with Debian's lego, as
# NixOS uses lego. Certificates are obtained on the machine at run time, never at build time:
# acme-NAME.service runs lego (HTTP-01 through a webroot or lego's own listener, or DNS-01
# through a provider), then copies the result to /var/lib/acme/NAME (cert.pem, key.pem,
# fullchain.pem, chain.pem, full.pem), readable by the certificate's group, and reloads the
# services that use it; acme-NAME.timer renews. Until the first certificate arrives,
# acme-selfsigned-NAME.service puts a self-signed one in its place, so that a web server
# that needs the files can start (and then serve the challenge).
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep;
  cfg = config.security.acme;

  # The options a certificate shares with security.acme.defaults; null in a certificate
  # means "the default's".
  sharedOptions = isDefaults: let d = v: if isDefaults then v else null; n = t: if isDefaults then t else types.nullOr t; in {
    email = mkOption { type = types.nullOr types.str; default = null; description = "The account's contact address."; };
    server = mkOption { type = n types.str; default = d "https://acme-v02.api.letsencrypt.org/directory"; description = "The ACME server's directory URL (staging: https://acme-staging-v02.api.letsencrypt.org/directory)."; };
    keyType = mkOption { type = n types.str; default = d "ec256"; description = "The certificate key's type (lego: rsa2048, rsa4096, rsa8192, ec256, ec384)."; };
    validMinDays = mkOption { type = n types.int; default = d 30; description = "Renew when fewer days than this are left."; };
    renewInterval = mkOption { type = n types.str; default = d "daily"; description = "How often renewal is tried (a systemd calendar event)."; };
    webroot = mkOption { type = types.nullOr types.str; default = null; example = "/var/lib/acme/acme-challenge"; description = "Where HTTP-01 challenge files are written (.well-known/acme-challenge below it), for a web server to serve."; };
    listenHTTP = mkOption { type = types.nullOr types.str; default = null; example = ":1360"; description = "Where lego's own HTTP server answers HTTP-01 challenges (interface:port)."; };
    dnsProvider = mkOption { type = types.nullOr types.str; default = null; example = "route53"; description = "The lego DNS provider for DNS-01 challenges."; };
    dnsResolver = mkOption { type = types.nullOr types.str; default = null; description = "The DNS server checked for the challenge's record (host:port)."; };
    dnsPropagationCheck = mkOption { type = n types.bool; default = d true; description = "Whether lego waits until the record is visible."; };
    credentialsFile = mkOption { type = types.nullOr types.str; default = null; description = "A file on the machine of KEY=value lines for the DNS provider (lego's environment)."; };
    group = mkOption { type = n types.str; default = d "acme"; description = "The group that may read the certificate's key."; };
    reloadServices = mkOption { type = types.listOf types.str; default = [ ]; description = "Units reloaded (or restarted) when the certificate changes."; };
    postRun = mkOption { type = types.lines; default = ""; description = "Shell commands run (as root, in the certificate's folder) after it changes."; };
    extraLegoFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "More arguments of every lego run."; };
    extraLegoRunFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "More arguments of lego run (the first certificate)."; };
    extraLegoRenewFlags = mkOption { type = types.listOf types.str; default = [ ]; description = "More arguments of lego renew."; };
  };

  certOptions = { name, ... }: {
    options = sharedOptions false // {
      domain = mkOption { type = types.str; default = name; description = "The certificate's main name."; };
      extraDomainNames = mkOption { type = types.listOf types.str; default = [ ]; description = "Its other names."; };
      directory = mkOption { type = types.str; default = "/var/lib/acme/${name}"; readOnly = true; description = "Where its files are."; };
    };
  };

  # A certificate's settings with the defaults filled in.
  resolved = name: c: c // lib.mapAttrs (k: v: if c.${k} == null || c.${k} == [ ] || c.${k} == "" then v else c.${k}) (removeAttrs cfg.defaults [ "reloadServices" "postRun" ])
    // { reloadServices = lib.unique (cfg.defaults.reloadServices ++ c.reloadServices); postRun = cfg.defaults.postRun + c.postRun; };
  certs = lib.mapAttrs resolved cfg.certs;

  legoArgs = name: c: concatStringsSep " " (map lib.escapeShellArg ([
    "--accept-tos" "--path" "/var/lib/acme/.lego/${name}" "--server" c.server "--key-type" c.keyType
  ] ++ lib.optionals (c.email != null) [ "--email" c.email ]
    ++ lib.concatMap (d: [ "-d" d ]) ([ c.domain ] ++ c.extraDomainNames)
    ++ (if c.dnsProvider != null then [ "--dns" c.dnsProvider ] ++ lib.optionals (c.dnsResolver != null) [ "--dns.resolvers" c.dnsResolver ] ++ lib.optional (!c.dnsPropagationCheck) "--dns.disable-cp"
        else if c.webroot != null then [ "--http" "--http.webroot" c.webroot ]
        else [ "--http" "--http.port" c.listenHTTP ])
    ++ c.extraLegoFlags));

  certScript = name: c: let files = "/var/lib/acme/.lego/${name}/certificates/${lib.replaceStrings [ "*" ] [ "_" ] c.domain}"; in ''
    set -euo pipefail
    mkdir -p /var/lib/acme/.lego/${name} ${c.directory}
    if [ -e ${files}.crt ] && [ ! -e ${c.directory}/.selfsigned ]; then
      lego ${legoArgs name c} renew --no-random-sleep --days ${toString c.validMinDays} ${concatStringsSep " " (map lib.escapeShellArg c.extraLegoRenewFlags)}
    else
      lego ${legoArgs name c} run ${concatStringsSep " " (map lib.escapeShellArg c.extraLegoRunFlags)}
    fi
    # Copied only when lego wrote something new, so that services are reloaded only then.
    if [ -e ${c.directory}/.selfsigned ] || ! cmp -s ${files}.crt ${c.directory}/fullchain.pem; then
      install -m 0640 -g ${c.group} ${files}.crt ${c.directory}/fullchain.pem.new
      install -m 0640 -g ${c.group} ${files}.key ${c.directory}/key.pem.new
      install -m 0640 -g ${c.group} ${files}.issuer.crt ${c.directory}/chain.pem.new
      cat ${files}.key ${files}.crt > ${c.directory}/full.pem.new
      chgrp ${c.group} ${c.directory}/full.pem.new; chmod 0640 ${c.directory}/full.pem.new
      for f in fullchain key chain full; do mv ${c.directory}/$f.pem.new ${c.directory}/$f.pem; done
      ln -sfn fullchain.pem ${c.directory}/cert.pem
      rm -f ${c.directory}/.selfsigned
      ${lib.optionalString (c.reloadServices != [ ]) "systemctl --no-block try-reload-or-restart ${concatStringsSep " " (map lib.escapeShellArg c.reloadServices)}"}
      (cd ${c.directory} && ${if c.postRun == "" then ":" else "\n" + c.postRun + "\n"})
    fi
  '';

  selfsignedScript = name: c: ''
    set -euo pipefail
    if [ ! -e ${c.directory}/fullchain.pem ]; then
      mkdir -p ${c.directory}
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
        -subj /CN=${lib.escapeShellArg c.domain} -addext subjectAltName=DNS:${lib.escapeShellArg c.domain} \
        -keyout ${c.directory}/key.pem -out ${c.directory}/fullchain.pem 2>/dev/null
      cp ${c.directory}/fullchain.pem ${c.directory}/chain.pem
      cat ${c.directory}/key.pem ${c.directory}/fullchain.pem > ${c.directory}/full.pem
      ln -sfn fullchain.pem ${c.directory}/cert.pem
      chgrp ${c.group} ${c.directory}/*.pem; chmod 0640 ${c.directory}/*.pem
      touch ${c.directory}/.selfsigned
    fi
  '';
in
{
  options.security.acme = {
    acceptTerms = mkOption { type = types.bool; default = false; description = "Whether you accept the ACME server's terms of service (needed for any certificate)."; };
    defaults = mkOption { type = types.submodule { options = sharedOptions true; }; default = { }; description = "Settings every certificate takes unless it sets its own."; };
    certs = mkOption {
      type = types.attrsOf (types.submodule certOptions);
      default = { };
      example = { "example.org" = { webroot = "/var/lib/acme/acme-challenge"; extraDomainNames = [ "www.example.org" ]; }; };
      description = "Certificates, by name (the main domain by default).";
    };
  };

  config = lib.mkIf (cfg.certs != { }) {
    assertions = [ {
      assertion = cfg.acceptTerms;
      message = "security.acme.acceptTerms: you must accept the ACME server's terms of service to get certificates (Let's Encrypt: https://letsencrypt.org/repository/).";
    } ] ++ lib.mapAttrsToList (name: c: {
      assertion = lib.count (x: x != null) [ c.webroot c.listenHTTP c.dnsProvider ] == 1;
      message = "security.acme.certs.\"${name}\": set exactly one of webroot, listenHTTP and dnsProvider (here or in security.acme.defaults).";
    }) certs;

    environment.systemPackages = [ pkgs.lego pkgs.openssl ];
    users.users.acme = { isSystemUser = true; group = "acme"; home = "/var/lib/acme"; description = "ACME certificates"; };
    users.groups.acme = { };
    systemd.tmpfiles.rules = [ "d /var/lib/acme 0755 root root -" "d /var/lib/acme/.lego 0700 root root -" ]
      ++ lib.unique (lib.concatMap (c: lib.optionals (c.webroot != null) [ "d ${c.webroot}/.well-known/acme-challenge 0755 root root -" ]) (builtins.attrValues certs));

    systemd.services = lib.listToAttrs (lib.concatMap (name: let c = certs.${name}; in [
      (lib.nameValuePair "acme-${name}" {
        description = "Get or renew the ACME certificate for ${c.domain}";
        wants = [ "network-online.target" ];
        after = [ "network-online.target" "acme-selfsigned-${name}.service" ];
        wantedBy = [ "multi-user.target" ];
        path = [ pkgs.lego pkgs.diffutils ];
        serviceConfig = {
          Type = "oneshot";
          EnvironmentFile = lib.mkIf (c.credentialsFile != null) c.credentialsFile;
          # An ACME server that is not reached yet is tried again, not given up on.
          Restart = "on-failure";
          RestartSec = "15s";
        };
        unitConfig.StartLimitIntervalSec = 0;
        script = certScript name c;
      })
      (lib.nameValuePair "acme-selfsigned-${name}" {
        description = "A self-signed stand-in for ${c.domain} until ACME gives the real one";
        wantedBy = [ "multi-user.target" ];
        before = map (u: if lib.hasInfix "." u then u else "${u}.service") c.reloadServices;
        path = [ pkgs.openssl ];
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
        script = selfsignedScript name c;
      })
    ]) (attrNames certs));
    systemd.timers = lib.mapAttrs' (name: c: lib.nameValuePair "acme-${name}" {
      description = "Renew the ACME certificate for ${c.domain}";
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = c.renewInterval; Persistent = true; RandomizedDelaySec = "1h"; };
    }) certs;
  };
}
