# services.nginx (NixOS: nixos/modules/services/web-servers/nginx/default.nix), with Debian's
# nginx: /usr/sbin/nginx and nginx-common's /etc/nginx/mime.types. The configuration is
# /etc/nginx/nginx.conf (it takes the place of Debian's); the unit is Kiln's nginx.service,
# nginx in the foreground (`daemon off`); its directories come from tmpfiles, as Debian's
# postinst would have made them.
#
# Workers run as www-data by default (NixOS: nginx). Debian's nginx was built for that user:
# /var/www, its log and cache directories, and the base accounts (www-data, uid and gid 33)
# all expect it, so no new account is needed.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames attrValues concatStringsSep concatMap filter sort isString;
  cfg = config.services.nginx;

  indent = prefix: text: concatStringsSep "\n" (map (l: if l == "" then l else prefix + l) (lib.splitString "\n" text));

  listenType = types.submodule {
    options = {
      addr = mkOption { type = types.str; description = "The address (\"0.0.0.0\", \"[::0]\", a unix: path)."; };
      port = mkOption { type = types.nullOr types.port; default = null; description = "The port; null: 80, or 443 with ssl."; };
      ssl = mkOption { type = types.bool; default = false; description = "Whether this is a TLS listener."; };
      extraParameters = mkOption { type = types.listOf types.str; default = [ ]; example = [ "reuseport" ]; description = "More parameters of the listen directive."; };
    };
  };

  locationOptions = { name, ... }: {
    options = {
      root = mkOption { type = types.nullOr (types.either types.path types.str); default = null; description = "The location's document root (root)."; };
      alias = mkOption { type = types.nullOr (types.either types.path types.str); default = null; description = "The directory this location is an alias for (alias)."; };
      index = mkOption { type = types.nullOr types.str; default = null; example = "index.html index.htm"; description = "Index files (index)."; };
      tryFiles = mkOption { type = types.nullOr types.str; default = null; example = "$uri $uri/ =404"; description = "The try_files directive's arguments."; };
      proxyPass = mkOption { type = types.nullOr types.str; default = null; example = "http://127.0.0.1:8080"; description = "Where requests are passed on (proxy_pass)."; };
      proxyWebsockets = mkOption { type = types.bool; default = false; description = "Whether WebSocket upgrades are passed on."; };
      recommendedProxySettings = mkOption {
        type = types.bool;
        default = cfg.recommendedProxySettings;
        defaultText = lib.literalExpression "config.services.nginx.recommendedProxySettings";
        description = "Whether the proxied server is told the client's host, address and scheme.";
      };
      return = mkOption { type = types.nullOr (types.either types.str types.int); default = null; example = "301 https://example.org$request_uri"; description = "The return directive's arguments."; };
      basicAuthFile = mkOption { type = types.nullOr types.path; default = null; description = "An htpasswd file that guards the location."; };
      extraConfig = mkOption { type = types.lines; default = ""; description = "More directives of the location."; };
      priority = mkOption { type = types.int; default = 1000; description = "Order of the location blocks: lower first, then by path."; };
    };
  };

  vhostOptions = { name, config, ... }: {
    options = {
      serverName = mkOption { type = types.nullOr types.str; default = null; description = "The server_name; null: the attribute's name."; };
      serverAliases = mkOption { type = types.listOf types.str; default = [ ]; example = [ "www.example.org" ]; description = "More names of the server."; };
      listen = mkOption {
        type = types.listOf listenType;
        default = [ ];
        example = [ { addr = "0.0.0.0"; port = 8080; } ];
        description = "Where the server listens; empty: services.nginx.defaultListenAddresses, port 80 (and 443 with SSL).";
      };
      default = mkOption { type = types.bool; default = false; description = "Whether this is the default server of its listeners (default_server)."; };
      root = mkOption { type = types.nullOr (types.either types.path types.str); default = null; example = "/var/www/example"; description = "The server's document root."; };
      locations = mkOption { type = types.attrsOf (types.submodule locationOptions); default = { }; description = "The server's location blocks, by path (\"/\", \"~ \\.php$\")."; };
      extraConfig = mkOption { type = types.lines; default = ""; description = "More directives of the server block."; };
      addSSL = mkOption { type = types.bool; default = false; description = "Whether the server also listens with TLS (needs sslCertificate and sslCertificateKey)."; };
      onlySSL = mkOption { type = types.bool; default = false; description = "Whether the server listens only with TLS."; };
      forceSSL = mkOption { type = types.bool; default = false; description = "Whether plain HTTP requests are redirected to HTTPS."; };
      sslCertificate = mkOption { type = types.nullOr types.path; default = null; description = "The TLS certificate: a path on the machine, or a file of the profile's directory (copied into the store)."; };
      sslCertificateKey = mkOption { type = types.nullOr types.path; default = null; description = "The TLS key: a path on the machine, or a file of the profile's directory (copied into the store, where every user can read it)."; };
      enableACME = mkOption { type = types.bool; default = false; description = "Whether the server's certificate comes from ACME (security.acme.certs.<serverName>, HTTP-01 through acmeRoot)."; };
      useACMEHost = mkOption { type = types.nullOr types.str; default = null; example = "example.org"; description = "A certificate of security.acme.certs the server uses (obtained elsewhere, e.g. by DNS-01)."; };
      acmeRoot = mkOption { type = types.nullOr types.str; default = "/var/lib/acme/acme-challenge"; description = "Where ACME's HTTP-01 challenges are served from (/.well-known/acme-challenge below it)."; };
      http2 = mkOption { type = types.bool; default = true; description = "Whether TLS listeners speak HTTP/2."; };
      basicAuthFile = mkOption { type = types.nullOr types.path; default = null; description = "An htpasswd file that guards the whole server."; };
    };
  };

  hasSSL = v: v.onlySSL || v.addSSL || v.forceSSL;
  acmeCert = v: if v.useACMEHost != null then v.useACMEHost else if v.serverName != null then v.serverName else v._name;
  usesACME = v: v.enableACME || v.useACMEHost != null;
  certFile = v: if usesACME v then "/var/lib/acme/${acmeCert v}/fullchain.pem" else v.sslCertificate;
  keyFile = v: if usesACME v then "/var/lib/acme/${acmeCert v}/key.pem" else v.sslCertificateKey;
  # Served on plain HTTP before any redirect, as NixOS does.
  acmeLocation = v: lib.optionalString (v.enableACME && v.acmeRoot != null) ''
    location ^~ /.well-known/acme-challenge/ {
      root ${v.acmeRoot};
      auth_basic off;
    }'';

  listenLine = v: l:
    let port = if l.port != null then l.port else if l.ssl then 443 else 80;
    in "listen ${l.addr}:${toString port}${lib.optionalString l.ssl " ssl${lib.optionalString v.http2 " http2"}"}${lib.optionalString v.default " default_server"}${concatStringsSep "" (map (p: " ${p}") l.extraParameters)};";

  defaultListen = v:
    lib.optionals (!v.onlySSL) (map (addr: { inherit addr; port = 80; ssl = false; extraParameters = [ ]; }) cfg.defaultListenAddresses)
    ++ lib.optionals (hasSSL v) (map (addr: { inherit addr; port = 443; ssl = true; extraParameters = [ ]; }) cfg.defaultListenAddresses);

  locationText = path: l: ''
    location ${path} {
    ${indent "  " (concatStringsSep "\n" (filter (s: s != "") [
      (lib.optionalString (l.root != null) "root ${toString l.root};")
      (lib.optionalString (l.alias != null) "alias ${toString l.alias};")
      (lib.optionalString (l.index != null) "index ${l.index};")
      (lib.optionalString (l.tryFiles != null) "try_files ${l.tryFiles};")
      (lib.optionalString (l.basicAuthFile != null) "auth_basic \"restricted\";\nauth_basic_user_file ${l.basicAuthFile};")
      (lib.optionalString (l.proxyPass != null) "proxy_pass ${l.proxyPass};")
      (lib.optionalString (l.proxyPass != null && l.recommendedProxySettings) ''
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $host;'')
      (lib.optionalString l.proxyWebsockets ''
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";'')
      (lib.optionalString (l.return != null) "return ${toString l.return};")
      l.extraConfig
    ]))}
    }
  '';

  sortedLocations = v: sort (a: b: if a.priority != b.priority then a.priority < b.priority else a.path < b.path)
    (lib.mapAttrsToList (path: l: l // { inherit path; }) v.locations);

  vhostText = name: v0:
    let
      v = v0 // { _name = name; };
      serverName = if v.serverName != null then v.serverName else name;
      listens = if v.listen != [ ] then v.listen else defaultListen v;
      redirect = v.forceSSL && v.listen == [ ];
      mainListens = if redirect then filter (l: l.ssl) listens else listens;
      names = "server_name ${concatStringsSep " " ([ serverName ] ++ v.serverAliases)};";
    in
    lib.optionalString redirect ''
      server {
      ${indent "  " (concatStringsSep "\n" (map (listenLine v) (filter (l: !l.ssl) listens)))}
        ${names}
      ${indent "  " (acmeLocation v)}
        location / {
          return 301 https://$host$request_uri;
        }
      }
    '' + ''
      server {
      ${indent "  " (concatStringsSep "\n" (map (listenLine v) mainListens))}
        ${names}
      ${indent "  " (concatStringsSep "\n" (filter (s: s != "") [
        (lib.optionalString (v.root != null) "root ${toString v.root};")
        (lib.optionalString (hasSSL v) "ssl_certificate ${certFile v};\nssl_certificate_key ${keyFile v};")
        (lib.optionalString (!redirect) (acmeLocation v))
        (lib.optionalString (v.basicAuthFile != null) "auth_basic \"restricted\";\nauth_basic_user_file ${v.basicAuthFile};")
        (concatStringsSep "\n" (map (l: locationText l.path l) (sortedLocations v)))
        v.extraConfig
      ]))}
      }
    '';

  upstreamText = name: u: ''
    upstream ${name} {
    ${indent "  " (concatStringsSep "\n" (lib.mapAttrsToList (addr: params:
        "server ${addr}${concatStringsSep "" (lib.mapAttrsToList (k: val: if val == true then " ${k}" else if val == false then "" else " ${k}=${toString val}") params)};") u.servers
      ++ lib.optional (u.extraConfig != "") u.extraConfig))}
    }
  '';

  configText = ''
    # Generated by Kiln from services.nginx.
    ${lib.optionalString (cfg.user != "root") "user ${cfg.user} ${cfg.group};"}
    pid /run/nginx/nginx.pid;
    error_log ${cfg.logError};
    daemon off;
    worker_processes ${toString cfg.workerProcesses};
    ${cfg.appendConfig}
    events {
    ${indent "  " cfg.eventsConfig}
    }

    http {
      include /etc/nginx/mime.types;
      # As NixOS's http block: a location needs only fastcgi_pass (or uwsgi_pass).
      include /etc/nginx/fastcgi.conf;
      include /etc/nginx/uwsgi_params;
      default_type application/octet-stream;
      types_hash_max_size 4096;
      sendfile on;
      access_log /var/log/nginx/access.log;
      client_max_body_size ${cfg.clientMaxBodySize};
      server_tokens ${if cfg.serverTokens then "on" else "off"};
    ${lib.optionalString cfg.recommendedOptimisation ''
      tcp_nopush on;
      tcp_nodelay on;
      keepalive_timeout 65;
    ''}${lib.optionalString cfg.recommendedGzipSettings ''
      gzip on;
      gzip_vary on;
      gzip_proxied any;
      gzip_comp_level 5;
      gzip_types application/javascript application/json application/xml image/svg+xml text/css text/javascript text/plain text/xml;
    ''}${lib.optionalString cfg.recommendedTlsSettings ''
      ssl_protocols TLSv1.2 TLSv1.3;
      ssl_session_timeout 1d;
      ssl_session_cache shared:SSL:10m;
    ''}
    ${indent "  " cfg.commonHttpConfig}
    ${indent "  " (concatStringsSep "\n" (lib.mapAttrsToList upstreamText cfg.upstreams))}
    ${indent "  " (concatStringsSep "\n" (lib.mapAttrsToList vhostText cfg.virtualHosts))}
    ${lib.optionalString cfg.statusPage (indent "  " ''
      server {
        listen 127.0.0.1:80;
        server_name localhost;
        location /nginx_status {
          stub_status;
          access_log off;
          allow 127.0.0.1;
          deny all;
        }
      }'')}
    ${indent "  " cfg.appendHttpConfig}
    }
  '';

  vhosts = lib.mapAttrsToList (name: v: v // { _name = name; }) cfg.virtualHosts;
  # nginx needs the certificates' files to start: the self-signed stand-ins come first.
  acmeUnits = lib.unique (map (v: "acme-selfsigned-${acmeCert v}.service") (filter usesACME vhosts));
in
{
  options.services.nginx = {
    enable = lib.mkEnableOption "the nginx web server (nginx.service)";
    package = lib.mkPackageOption pkgs "nginx" {
      extraDescription = "Debian 12 has `nginx` (the server with the core modules); nginx-light and nginx-core are transitional names for it.";
    };
    user = mkOption {
      type = types.str;
      default = "www-data";
      description = "The user nginx's workers run as (NixOS: nginx; Kiln: Debian's www-data).";
    };
    group = mkOption {
      type = types.str;
      default = "www-data";
      description = "The group nginx's workers run as.";
    };
    workerProcesses = mkOption {
      type = types.either types.int (types.enum [ "auto" ]);
      default = "auto";
      description = "How many worker processes nginx starts.";
    };
    eventsConfig = mkOption {
      type = types.lines;
      default = "worker_connections 1024;";
      description = "The events block's directives.";
    };
    defaultListenAddresses = mkOption {
      type = types.listOf types.str;
      default = [ "0.0.0.0" ] ++ lib.optional config.networking.enableIPv6 "[::0]";
      defaultText = lib.literalExpression ''[ "0.0.0.0" ] ++ lib.optional config.networking.enableIPv6 "[::0]"'';
      description = "Addresses virtual hosts listen on when they say nothing else.";
    };
    logError = mkOption {
      type = types.str;
      default = "stderr";
      description = "Where errors are logged (error_log); stderr goes to the journal.";
    };
    clientMaxBodySize = mkOption {
      type = types.str;
      default = "10m";
      description = "The largest request body accepted (client_max_body_size).";
    };
    serverTokens = mkOption {
      type = types.bool;
      default = false;
      description = "Whether error pages and the Server header show nginx's version.";
    };
    statusPage = mkOption {
      type = types.bool;
      default = false;
      description = "Whether http://127.0.0.1/nginx_status shows nginx's status.";
    };
    recommendedOptimisation = mkOption { type = types.bool; default = false; description = "Whether to use sendfile, TCP_NOPUSH/NODELAY and keepalive settings."; };
    recommendedGzipSettings = mkOption { type = types.bool; default = false; description = "Whether responses are gzip-compressed."; };
    recommendedProxySettings = mkOption { type = types.bool; default = false; description = "Whether proxied servers are told the client's host, address and scheme (default of every location)."; };
    recommendedTlsSettings = mkOption { type = types.bool; default = false; description = "Whether to use current TLS protocols and a session cache."; };
    appendConfig = mkOption { type = types.lines; default = ""; description = "Directives of the main context."; };
    commonHttpConfig = mkOption { type = types.lines; default = ""; description = "Directives at the top of the http block."; };
    appendHttpConfig = mkOption { type = types.lines; default = ""; description = "Directives at the end of the http block."; };
    upstreams = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          servers = mkOption {
            type = types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str ]));
            default = { };
            example = { "127.0.0.1:8000" = { weight = 2; }; "127.0.0.1:8001" = { backup = true; }; };
            description = "The upstream's servers and their parameters.";
          };
          extraConfig = mkOption { type = types.lines; default = ""; description = "More directives of the upstream block."; };
        };
      });
      default = { };
      description = "Upstream server groups, for proxyPass = \"http://<name>\".";
    };
    virtualHosts = mkOption {
      type = types.attrsOf (types.submodule vhostOptions);
      default = { };
      example = lib.literalExpression ''{ "example.org" = { root = "/var/www/example"; }; }'';
      description = "The server blocks, by name (the default server_name).";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = concatMap (v: [
      {
        assertion = !(hasSSL v) || usesACME v || (v.sslCertificate != null && v.sslCertificateKey != null);
        message = "services.nginx.virtualHosts.\"${v._name}\": a server with addSSL, onlySSL or forceSSL needs sslCertificate and sslCertificateKey, enableACME or useACMEHost.";
      }
      {
        assertion = !(v.enableACME && v.useACMEHost != null);
        message = "services.nginx.virtualHosts.\"${v._name}\": set enableACME or useACMEHost, not both.";
      }
      {
        assertion = lib.count (x: x) [ v.addSSL v.onlySSL v.forceSSL ] <= 1;
        message = "services.nginx.virtualHosts: set at most one of addSSL, onlySSL and forceSSL.";
      }
    ]) vhosts ++ [ {
      assertion = lib.count (v: v.default) vhosts <= 1;
      message = "services.nginx.virtualHosts: only one virtual host can be the default.";
    } ];

    environment.systemPackages = [ cfg.package ];
    environment.etc."nginx/nginx.conf".text = configText;

    users.users.${cfg.user} = lib.mkIf (cfg.user != "root") ({
      isSystemUser = lib.mkDefault true;
      group = lib.mkDefault cfg.group;
    } // lib.optionalAttrs (cfg.user == "www-data") {
      uid = lib.mkDefault 33;
      home = lib.mkDefault "/var/www";
      description = lib.mkDefault "www-data";
    });
    users.groups.${cfg.group} = { };

    security.acme.certs = lib.listToAttrs (map (v: lib.nameValuePair (acmeCert v) {
      webroot = lib.mkDefault v.acmeRoot;
      extraDomainNames = v.serverAliases;
      group = lib.mkDefault cfg.group;
      reloadServices = [ "nginx.service" ];
    }) (filter (v: v.enableACME) vhosts));

    systemd.tmpfiles.rules = [
      "d /var/log/nginx 0750 ${cfg.user} adm -"
      "d /var/lib/nginx 0755 root root -"
      "d /var/www 0755 root root -"
    ];

    systemd.services.nginx = {
      description = "Nginx Web Server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ] ++ acmeUnits;
      wants = [ "network.target" ] ++ acmeUnits;
      stopIfChanged = false;
      serviceConfig = {
        ExecStartPre = [ "/usr/sbin/nginx -t -q -c /etc/nginx/nginx.conf -e stderr" ];
        ExecStart = "/usr/sbin/nginx -c /etc/nginx/nginx.conf -e stderr";
        ExecReload = [ "/usr/sbin/nginx -t -q -c /etc/nginx/nginx.conf -e stderr" "/bin/kill -HUP $MAINPID" ];
        Restart = "always";
        RestartSec = "10s";
        RuntimeDirectory = "nginx";
        RuntimeDirectoryMode = "0750";
      };
    };
  };
}
