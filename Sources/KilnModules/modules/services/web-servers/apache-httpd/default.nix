# services.httpd (NixOS: nixos/modules/services/web-servers/apache-httpd/default.nix): the
# Apache HTTP server from Debian's apache2, configured as NixOS configures it: one
# /etc/httpd/httpd.conf with the modules it loads, the listeners, logging, TLS settings and a
# <VirtualHost> per virtual host and listener kind (plain HTTP, possibly only redirecting to
# HTTPS, and TLS), run as httpd.service under wwwrun with CAP_NET_BIND_SERVICE. Debian's
# /etc/apache2 tree and apache2.service stay unused.
#
# Debian compiles core, so, http, log_config, logio, version, unixd and watchdog into the
# binary, so they are not loaded as modules. mod_php is not offered (enablePHP is refused by
# name): services.phpfpm with a proxy_fcgi location does the same job.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption optionalString concatMapStrings concatStringsSep;
  inherit (builtins) filter attrValues;
  cfg = config.services.httpd;
  runtimeDir = "/run/httpd";
  modulesDir = "/usr/lib/apache2/modules";

  listenType = types.submodule {
    options = {
      ip = mkOption { type = types.str; default = "*"; description = "The address (\"*\": every address)."; };
      port = mkOption { type = types.port; description = "The port."; };
      ssl = mkOption { type = types.bool; default = false; description = "Whether this listener speaks TLS."; };
    };
  };

  locationOptions = { ... }: {
    options = {
      proxyPass = mkOption { type = types.nullOr types.str; default = null; example = "http://localhost:8000/"; description = "Where the location's requests are passed on (ProxyPass)."; };
      index = mkOption { type = types.nullOr types.str; default = null; example = "index.php index.html"; description = "The location's DirectoryIndex."; };
      alias = mkOption { type = types.nullOr types.path; default = null; description = "The directory or file the location maps to (Alias)."; };
      extraConfig = mkOption { type = types.lines; default = ""; description = "More directives inside the <Location>."; };
      priority = mkOption { type = types.int; default = 1000; description = "Order of the <Location> blocks: lower first."; };
    };
  };

  vhostOptions = { name, ... }: {
    options = {
      hostName = mkOption { type = types.str; default = name; description = "The canonical name (ServerName)."; };
      serverAliases = mkOption { type = types.listOf types.str; default = [ ]; example = [ "www.example.org" ]; description = "More names (ServerAlias)."; };
      listen = mkOption { type = types.listOf listenType; default = [ ]; example = [ { ip = "*"; port = 8080; } ]; description = "Where the host listens; empty: listenAddresses, port 80 (and 443 with SSL)."; };
      listenAddresses = mkOption { type = types.nonEmptyListOf types.str; default = [ "*" ]; description = "The addresses the default listeners use."; };
      addSSL = mkOption { type = types.bool; default = false; description = "Whether the host also listens with TLS."; };
      onlySSL = mkOption { type = types.bool; default = false; description = "Whether the host listens only with TLS."; };
      forceSSL = mkOption { type = types.bool; default = false; description = "Whether plain HTTP requests are redirected to HTTPS."; };
      enableACME = mkOption { type = types.bool; default = false; description = "Whether the certificate comes from ACME (security.acme.certs.<hostName>, HTTP-01 through acmeRoot)."; };
      useACMEHost = mkOption { type = types.nullOr types.str; default = null; description = "A certificate of security.acme.certs the host uses (obtained elsewhere)."; };
      acmeRoot = mkOption { type = types.nullOr types.str; default = "/var/lib/acme/acme-challenge"; description = "Where ACME's HTTP-01 challenges are served from."; };
      sslServerCert = mkOption { type = types.nullOr types.path; default = null; description = "The TLS certificate."; };
      sslServerKey = mkOption { type = types.nullOr types.path; default = null; description = "The TLS key."; };
      sslServerChain = mkOption { type = types.nullOr types.path; default = null; description = "The intermediate certificates."; };
      http2 = mkOption { type = types.bool; default = true; description = "Whether TLS listeners speak HTTP/2."; };
      adminAddr = mkOption { type = types.nullOr types.str; default = null; example = "admin@example.org"; description = "The host's ServerAdmin (default: services.httpd.adminAddr)."; };
      documentRoot = mkOption { type = types.nullOr types.path; default = null; example = "/data/webserver/docs"; description = "The directory served (null: an empty one)."; };
      servedDirs = mkOption { type = types.listOf types.attrs; default = [ ]; example = [ { urlPath = "/nix"; dir = "/home/eelco/Dev/nix-homepage"; } ]; description = "Directories served at URL paths, with indexes."; };
      servedFiles = mkOption { type = types.listOf types.attrs; default = [ ]; example = [ { urlPath = "/foo/bar.png"; file = "/home/eelco/some-file.png"; } ]; description = "Files served at URL paths."; };
      enableUserDir = mkOption { type = types.bool; default = false; description = "Whether ~user/ serves the user's public_html."; };
      globalRedirect = mkOption { type = types.nullOr types.str; default = null; example = "http://newserver.example.org/"; description = "Where every request is permanently redirected."; };
      logFormat = mkOption { type = types.str; default = "common"; example = "combined"; description = "The host's access log format."; };
      robotsEntries = mkOption { type = types.lines; default = ""; example = "Disallow: /foo/"; description = "Lines of the host's robots.txt."; };
      locations = mkOption { type = types.attrsOf (types.submodule locationOptions); default = { }; description = "<Location> blocks, by URL path."; };
      extraConfig = mkOption { type = types.lines; default = ""; description = "More directives of the <VirtualHost>."; };
    };
  };

  vhosts = lib.mapAttrsToList (name: v: v // { _name = name; }) cfg.virtualHosts;
  hasSSL = v: v.onlySSL || v.addSSL || v.forceSSL;
  usesACME = v: v.enableACME || v.useACMEHost != null;
  acmeCert = v: if v.useACMEHost != null then v.useACMEHost else v.hostName;
  listenInfo = v:
    if v.listen != [ ] then v.listen
    else lib.optionals (hasSSL v) (map (ip: { inherit ip; port = 443; ssl = true; }) v.listenAddresses)
      ++ lib.optionals (!v.onlySSL) (map (ip: { inherit ip; port = 80; ssl = false; }) v.listenAddresses);
  allListen = lib.concatMap listenInfo vhosts;
  anySSL = lib.any (l: l.ssl) allListen;
  addr = l: "${l.ip}:${toString l.port}";

  # Debian builds these into the binary.
  builtIn = [ "core" "so" "http" "log_config" "logio" "version" "unixd" "watchdog" ];
  modules = [
    "mpm_${cfg.mpm}" "authz_core" "authn_core" "authz_host" "authz_user" "authz_groupfile" "authn_file"
    "auth_basic" "access_compat" "filter" "deflate" "headers" "mime" "setenvif" "env" "status" "autoindex"
    "dir" "negotiation" "alias" "rewrite" "proxy" "proxy_http" "proxy_wstunnel" "reqtimeout"
  ] ++ lib.optionals anySSL [ "socache_shmcb" "ssl" ]
    ++ lib.optional (lib.any (v: v.http2) vhosts) "http2"
    ++ lib.optional (lib.any (v: v.enableUserDir) vhosts) "userdir";
  loadModule = m:
    if builtins.isString m then lib.optionalString (!(builtins.elem m builtIn)) "LoadModule ${m}_module ${modulesDir}/mod_${m}.so\n"
    else "LoadModule ${m.name}_module ${toString m.path}\n";

  documentRootOf = v: if v.documentRoot != null then toString v.documentRoot else "/var/empty";
  locationText = path: l: ''
    <Location ${path}>
    ${optionalString (l.proxyPass != null) "  ProxyPass ${l.proxyPass}\n  ProxyPassReverse ${l.proxyPass}\n"}${optionalString (l.index != null) "  DirectoryIndex ${l.index}\n"}${optionalString (l.alias != null) "  Alias \"${toString l.alias}\"\n"}${l.extraConfig}
    </Location>
  '';
  sortedLocations = v: lib.sort (a: b: a.priority < b.priority || (a.priority == b.priority && a._path < b._path))
    (lib.mapAttrsToList (p: l: l // { _path = p; }) v.locations);

  acmeChallenge = v: optionalString (v.enableACME && v.acmeRoot != null) ''
    Alias /.well-known/acme-challenge/ "${v.acmeRoot}/.well-known/acme-challenge/"
    <Directory "${v.acmeRoot}">
        AllowOverride None
        Options MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec
        Require method GET POST OPTIONS
        Require all granted
    </Directory>
  '';

  commonText = v: ''
    ${optionalString cfg.logPerVirtualHost ''
      ErrorLog ${cfg.logDir}/error-${v.hostName}.log
      CustomLog ${cfg.logDir}/access-${v.hostName}.log ${v.logFormat}
    ''}${optionalString (v.robotsEntries != "") ''
      Alias /robots.txt /etc/httpd/robots/${v.hostName}.txt
    ''}DocumentRoot "${documentRootOf v}"
    <Directory "${documentRootOf v}">
        Options Indexes FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    ${optionalString v.enableUserDir ''
      UserDir public_html
      UserDir disabled root
      <Directory "/home/*/public_html">
          AllowOverride FileInfo AuthConfig Limit Indexes
          Options MultiViews Indexes SymLinksIfOwnerMatch IncludesNoExec
          <Limit GET POST OPTIONS>
              Require all granted
          </Limit>
          <LimitExcept GET POST OPTIONS>
              Require all denied
          </LimitExcept>
      </Directory>
    ''}${optionalString (v.globalRedirect != null && v.globalRedirect != "") "RedirectPermanent / ${v.globalRedirect}\n"}${concatMapStrings (f: "Alias ${f.urlPath} ${toString f.file}\n") v.servedFiles}${concatMapStrings (d: ''
      Alias ${d.urlPath} ${toString d.dir}
      <Directory ${toString d.dir}>
          Options +Indexes
          Require all granted
          AllowOverride All
      </Directory>
    '') v.servedDirs}${concatMapStrings (l: locationText l._path l) (sortedLocations v)}${v.extraConfig}
  '';

  names = v: ''
    ServerName ${v.hostName}
    ${concatMapStrings (a: "ServerAlias ${a}\n") v.serverAliases}${let a = if v.adminAddr != null then v.adminAddr else cfg.adminAddr; in optionalString (a != null) "ServerAdmin ${a}\n"}'';

  vhostText = v:
    let
      plain = filter (l: !l.ssl) (listenInfo v);
      tls = filter (l: l.ssl) (listenInfo v);
      certDir = "/var/lib/acme/${acmeCert v}";
      cert = if usesACME v then "${certDir}/fullchain.pem" else toString v.sslServerCert;
      key = if usesACME v then "${certDir}/key.pem" else toString v.sslServerKey;
      chain = if usesACME v then "${certDir}/chain.pem" else if v.sslServerChain != null then toString v.sslServerChain else null;
    in
    optionalString (plain != [ ]) ''
      <VirtualHost ${concatStringsSep " " (map addr plain)}>
      ${names v}${optionalString anySSL "<IfModule mod_ssl.c>\n    SSLEngine off\n</IfModule>\n"}${acmeChallenge v}${if v.forceSSL then ''
        RewriteEngine on
        RewriteCond %{REQUEST_URI} !^/.well-known/acme-challenge [nocase]
        RewriteCond %{HTTPS} off
        RewriteRule (.*) https://%{HTTP_HOST}%{REQUEST_URI}
      '' else commonText v}
      </VirtualHost>
    '' + optionalString (tls != [ ]) ''
      <VirtualHost ${concatStringsSep " " (map addr tls)}>
      ${names v}SSLEngine on
      SSLCertificateFile ${cert}
      SSLCertificateKeyFile ${key}
      ${optionalString (chain != null) "SSLCertificateChainFile ${chain}\n"}${optionalString v.http2 "Protocols h2 h2c http/1.1\n"}${acmeChallenge v}${commonText v}
      </VirtualHost>
    '';

  confText = ''
    ServerRoot "/etc/httpd"
    ServerName ${config.networking.hostName}
    DefaultRuntimeDir ${runtimeDir}/runtime
    PidFile ${runtimeDir}/httpd.pid

    <IfModule mpm_prefork_module>
        MaxRequestWorkers ${toString cfg.maxClients}
        MaxConnectionsPerChild ${toString cfg.maxRequestsPerChild}
    </IfModule>

    ${concatStringsSep "\n" (lib.unique (map (l: "Listen ${addr l} ${if l.ssl then "https" else "http"}") allListen))}

    User ${cfg.user}
    Group ${cfg.group}

    ${concatMapStrings loadModule (modules ++ cfg.extraModules)}
    AddHandler type-map var

    <Files ~ "^\.ht">
        Require all denied
    </Files>

    TypesConfig /etc/mime.types
    AddType application/x-x509-ca-cert .crt
    AddType application/x-pkcs7-crl .crl
    AddType application/x-httpd-php .php .phtml
    DirectoryIndex index.html

    ErrorLog ${cfg.logDir}/error.log
    LogLevel notice
    LogFormat "%h %l %u %t \"%r\" %>s %b" common
    LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
    LogFormat "%{Referer}i -> %U" referer
    LogFormat "%{User-agent}i" agent
    CustomLog ${cfg.logDir}/access.log ${cfg.logFormat}

    Timeout 60
    KeepAlive On
    MaxKeepAliveRequests 100
    KeepAliveTimeout 5
    UseCanonicalName Off
    HostnameLookups Off
    ServerSignature Off
    TraceEnable off

    ${optionalString anySSL ''
      <IfModule mod_ssl.c>
          SSLSessionCache shmcb:${runtimeDir}/ssl_scache(512000)
          Mutex posixsem
          SSLRandomSeed startup builtin
          SSLRandomSeed connect builtin
          SSLProtocol ${cfg.sslProtocols}
          SSLCipherSuite ${cfg.sslCiphers}
          SSLHonorCipherOrder on
      </IfModule>
    ''}
    <IfModule mod_http2.c>
        Protocols h2 h2c http/1.1
    </IfModule>

    # Nothing is served but what is granted below.
    <Directory />
        Options FollowSymLinks
        AllowOverride None
        Require all denied
    </Directory>
    # Files in the store may be served without a <Directory> each.
    <Directory /nix/store>
        Require all granted
    </Directory>
    # The virtual hosts' robots.txt files.
    <Directory /etc/httpd/robots>
        Require all granted
    </Directory>

    ${cfg.extraConfig}

    ${concatMapStrings vhostText vhosts}
  '';
in
{
  options.services.httpd = {
    enable = lib.mkEnableOption "the Apache HTTP Server";
    package = mkOption { type = types.package; default = pkgs.apache2; defaultText = lib.literalExpression "pkgs.apacheHttpd"; description = "The Apache HTTP Server package (Debian's apache2)."; };
    configFile = mkOption { type = types.nullOr types.path; default = null; description = "A complete httpd.conf to use instead of the one these options write."; };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Directives added to httpd.conf before the virtual hosts."; };
    extraModules = mkOption {
      type = types.listOf (types.either types.str types.attrs);
      default = [ ];
      example = lib.literalExpression ''[ "proxy_fcgi" { name = "jk"; path = "/usr/lib/apache2/modules/mod_jk.so"; } ]'';
      description = "More modules: a name of Debian's modules directory, or { name; path; }.";
    };
    adminAddr = mkOption { type = types.nullOr types.str; default = null; example = "admin@example.org"; description = "The default ServerAdmin."; };
    logFormat = mkOption { type = types.str; default = "common"; example = "combined"; description = "The main access log's format."; };
    logPerVirtualHost = mkOption { type = types.bool; default = true; description = "Whether each virtual host has its own logs."; };
    user = mkOption { type = types.str; default = "wwwrun"; description = "The account the server runs as."; };
    group = mkOption { type = types.str; default = "wwwrun"; description = "The group the server runs as."; };
    logDir = mkOption { type = types.path; default = "/var/log/httpd"; description = "Where the logs are written."; };
    virtualHosts = mkOption {
      type = types.attrsOf (types.submodule vhostOptions);
      default = { localhost = { documentRoot = "/usr/share/apache2/default-site"; }; };
      defaultText = lib.literalExpression ''{ localhost = { documentRoot = "/usr/share/apache2/default-site"; }; }'';
      example = lib.literalExpression ''{ "foo.example.com" = { forceSSL = true; enableACME = true; documentRoot = "/var/www/foo"; }; }'';
      description = "The virtual hosts, by name (the default hostName).";
    };
    enablePHP = mkOption { type = types.bool; default = false; description = "Whether mod_php is loaded: not offered by Kiln (use services.phpfpm)."; };
    mpm = mkOption { type = types.enum [ "event" "prefork" "worker" ]; default = "event"; description = "The multi-processing module."; };
    maxClients = mkOption { type = types.int; default = 150; description = "The most requests served at once (prefork)."; };
    maxRequestsPerChild = mkOption { type = types.int; default = 0; description = "Requests a child serves before it exits (prefork; 0: no limit)."; };
    sslCiphers = mkOption { type = types.str; default = "HIGH:!aNULL:!MD5:!EXP"; description = "The TLS cipher suites (SSLCipherSuite)."; };
    sslProtocols = mkOption { type = types.str; default = "All -SSLv2 -SSLv3 -TLSv1 -TLSv1.1"; description = "The TLS versions (SSLProtocol)."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = !cfg.enablePHP;
      message = "services.httpd.enablePHP: Kiln does not load mod_php; run PHP with services.phpfpm and pass .php requests to its socket with proxy_fcgi (extraModules = [ \"proxy_fcgi\" ]).";
    } ] ++ lib.concatMap (v: [
      {
        assertion = !(hasSSL v) || usesACME v || (v.sslServerCert != null && v.sslServerKey != null);
        message = "services.httpd.virtualHosts.\"${v._name}\": a host with addSSL, onlySSL or forceSSL needs sslServerCert and sslServerKey, enableACME or useACMEHost.";
      }
      {
        assertion = lib.count (x: x) [ v.addSSL v.onlySSL v.forceSSL ] <= 1;
        message = "services.httpd.virtualHosts.\"${v._name}\": set at most one of addSSL, onlySSL and forceSSL.";
      }
      {
        assertion = !(v.enableACME && v.useACMEHost != null);
        message = "services.httpd.virtualHosts.\"${v._name}\": set enableACME or useACMEHost, not both.";
      }
    ]) vhosts;

    environment.systemPackages = [ cfg.package ];
    environment.etc = {
      "httpd/httpd.conf" = if cfg.configFile == null then { text = confText; } else { source = cfg.configFile; };
    } // lib.listToAttrs (map (v: lib.nameValuePair "httpd/robots/${v.hostName}.txt" { text = v.robotsEntries; })
      (filter (v: v.robotsEntries != "") vhosts));

    users.users = lib.mkIf (cfg.user == "wwwrun") { wwwrun = { isSystemUser = true; group = cfg.group; description = "Apache httpd user"; }; };
    users.groups = lib.mkIf (cfg.group == "wwwrun") { wwwrun = { }; };

    security.acme.certs = lib.listToAttrs (map (v: lib.nameValuePair (acmeCert v) {
      webroot = lib.mkDefault v.acmeRoot;
      extraDomainNames = v.serverAliases;
      group = lib.mkDefault cfg.group;
      reloadServices = [ "httpd.service" ];
    }) (filter (v: v.enableACME) vhosts));

    systemd.tmpfiles.rules = [
      "d ${cfg.logDir} 0700 ${cfg.user} ${cfg.group} -"
      "d /var/empty 0555 root root -"
    ];

    systemd.services.httpd = let acmeUnits = lib.unique (map (v: "acme-selfsigned-${acmeCert v}.service") (filter usesACME vhosts)); in {
      description = "Apache HTTPD";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ] ++ acmeUnits;
      wants = acmeUnits;
      restartTriggers = [ (if cfg.configFile == null then confText else toString cfg.configFile) ];
      serviceConfig = {
        ExecStartPre = "/usr/sbin/apache2 -t -f /etc/httpd/httpd.conf";
        ExecStart = "/usr/sbin/apache2 -f /etc/httpd/httpd.conf";
        ExecStop = "/usr/sbin/apache2 -f /etc/httpd/httpd.conf -k graceful-stop";
        ExecReload = "/usr/sbin/apache2 -f /etc/httpd/httpd.conf -k graceful";
        User = cfg.user;
        Group = cfg.group;
        Type = "forking";
        PIDFile = "${runtimeDir}/httpd.pid";
        Restart = "always";
        RestartSec = "5s";
        AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
        CapabilityBoundingSet = [ "CAP_NET_BIND_SERVICE" ];
        RuntimeDirectory = [ "httpd" "httpd/runtime" ];
        RuntimeDirectoryMode = "0750";
      };
    };
  };
}
