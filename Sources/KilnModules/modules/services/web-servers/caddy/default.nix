# services.caddy (NixOS: nixos/modules/services/web-servers/caddy/): the web server that gets
# its own certificates. The Caddyfile is NixOS's (global options, extraConfig, one block per
# virtual host), at NixOS's /etc/caddy/caddy_config; Debian's caddy.service runs it as the
# caddy account, with its data (certificates, ACME account) under the account's home,
# dataDir. NixOS formats the file with `caddy fmt` at build time; Kiln runs no package's
# program while building, so Caddy may log that the file is not formatted.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption concatStringsSep optionalString;
  cfg = config.services.caddy;
  configPath = "/etc/caddy/caddy_config";
  vhosts = builtins.attrValues cfg.virtualHosts;
  acmeHosts = lib.unique (map (v: v.useACMEHost) (builtins.filter (v: v.useACMEHost != null) vhosts));

  vhostOptions = { name, ... }: {
    options = {
      hostName = mkOption { type = types.str; default = name; description = "The site's address (a name, or a name with a port or scheme)."; };
      serverAliases = mkOption { type = types.listOf types.str; default = [ ]; example = [ "www.example.org" ]; description = "More addresses of the same site."; };
      listenAddresses = mkOption { type = types.listOf types.str; default = [ ]; description = "The addresses the site binds (bind); empty binds all."; };
      useACMEHost = mkOption { type = types.nullOr types.str; default = null; description = "A security.acme.certs entry whose certificate the site uses instead of getting its own."; };
      logFormat = mkOption {
        type = types.nullOr types.lines;
        default = "output file ${cfg.logDir}/access-${name}.log\n";
        description = "The site's log block; null logs nothing.";
      };
      extraConfig = mkOption { type = types.lines; default = ""; description = "The site's directives (root, file_server, reverse_proxy, ...)."; };
    };
  };

  vhostBlock = v: ''
    ${v.hostName} ${concatStringsSep " " v.serverAliases} {
      ${optionalString (v.listenAddresses != [ ]) "bind ${concatStringsSep " " v.listenAddresses}"}
      ${optionalString (v.useACMEHost != null) (let d = config.security.acme.certs.${v.useACMEHost}.directory; in "tls ${d}/cert.pem ${d}/key.pem")}
      ${optionalString (v.logFormat != null) ''
        log {
          ${v.logFormat}
        }
      ''}
      ${v.extraConfig}
    }
  '';
  caddyfile = ''
    {
      ${cfg.globalConfig}
    }
    ${cfg.extraConfig}
    ${lib.concatMapStringsSep "\n" vhostBlock vhosts}
  '';
  adapter = if cfg.adapter != null then cfg.adapter
    else if cfg.settings == { } && cfg.configFile == null then "caddyfile" else null;
  runOptions = "--config ${configPath}" + optionalString (adapter != null) " --adapter ${adapter}";
in
{
  options.services.caddy = {
    enable = lib.mkEnableOption "the Caddy web server";
    package = mkOption { type = types.package; default = pkgs.caddy; defaultText = lib.literalExpression "pkgs.caddy"; description = "The Caddy package."; };
    user = mkOption { type = types.str; default = "caddy"; description = "The account Caddy runs as."; };
    group = mkOption { type = types.str; default = "caddy"; description = "The group Caddy runs as."; };
    dataDir = mkOption { type = types.str; default = "/var/lib/caddy"; description = "Caddy's home: its certificates and ACME account are kept under it."; };
    logDir = mkOption { type = types.str; default = "/var/log/caddy"; description = "Where the sites' access logs go."; };
    logFormat = mkOption { type = types.lines; default = "level ERROR\n"; description = "The default logger's settings (the global log block)."; };
    configFile = mkOption { type = types.nullOr types.path; default = null; description = "A configuration file of your own, used instead of the one the options write."; };
    adapter = mkOption { type = types.nullOr types.str; default = null; example = "nginx"; description = "The config adapter; null: caddyfile for the written Caddyfile, none for settings."; };
    resume = mkOption { type = types.bool; default = false; description = "Whether Caddy prefers the configuration it saved last (--resume)."; };
    globalConfig = mkOption { type = types.lines; default = ""; description = "Lines of the Caddyfile's global options block."; };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Lines added to the Caddyfile after the global block."; };
    virtualHosts = mkOption { type = types.attrsOf (types.submodule vhostOptions); default = { }; description = "Sites, by address."; };
    acmeCA = mkOption { type = types.nullOr types.str; default = null; example = "https://acme-staging-v02.api.letsencrypt.org/directory"; description = "The ACME directory Caddy gets certificates from (acme_ca); null lets Caddy fall back from one issuer to the next."; };
    email = mkOption { type = types.nullOr types.str; default = null; description = "The ACME account's e-mail address."; };
    httpPort = mkOption { type = types.nullOr types.port; default = 80; description = "The default HTTP port."; };
    httpsPort = mkOption { type = types.nullOr types.port; default = 443; description = "The default HTTPS port."; };
    enableReload = mkOption { type = types.bool; default = true; description = "Whether a reload uses Caddy's admin API instead of a restart."; };
    settings = mkOption { type = types.attrsOf types.anything; default = { }; description = "Caddy's JSON configuration, used instead of the Caddyfile when set."; };
    environmentFile = mkOption { type = types.nullOr types.str; default = null; description = "A file of environment variables (secrets the Caddyfile names as {$VAR})."; };
    openFirewall = mkOption { type = types.bool; default = false; description = "Whether httpPort and httpsPort are opened (TCP, and UDP for HTTP/3)."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = cfg.configFile == null && cfg.settings == { } -> cfg.adapter == null || cfg.adapter == "caddyfile";
      message = "services.caddy.adapter: an adapter other than caddyfile needs a configuration of your own in services.caddy.configFile.";
    } ];
    services.caddy.globalConfig = ''
      ${optionalString (cfg.email != null) "email ${cfg.email}"}
      ${optionalString (cfg.acmeCA != null) "acme_ca ${cfg.acmeCA}"}
      ${optionalString (!builtins.elem cfg.httpPort [ null 80 ]) "http_port ${toString cfg.httpPort}"}
      ${optionalString (!builtins.elem cfg.httpsPort [ null 443 ]) "https_port ${toString cfg.httpsPort}"}
      log {
        ${cfg.logFormat}
      }
    '';
    environment.systemPackages = [ cfg.package ];
    users.users = lib.mkIf (cfg.user == "caddy") { caddy = { isSystemUser = true; group = cfg.group; home = cfg.dataDir; description = "Caddy web server"; }; };
    users.groups = lib.mkIf (cfg.group == "caddy") { caddy = { }; };
    environment.etc."caddy/caddy_config" = if cfg.configFile != null then { source = cfg.configFile; }
      else { text = if cfg.settings != { } then builtins.toJSON cfg.settings else caddyfile; };
    systemd.tmpfiles.rules = [
      "d ${cfg.dataDir} 0750 ${cfg.user} ${cfg.group} - -"
      "d ${cfg.logDir} 0750 ${cfg.user} ${cfg.group} - -"
    ];
    networking.firewall = lib.mkIf cfg.openFirewall {
      allowedTCPPorts = lib.filter (p: p != null) [ cfg.httpPort cfg.httpsPort ];
      allowedUDPPorts = lib.filter (p: p != null) [ cfg.httpsPort ];
    };
    systemd.services.caddy = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      wants = map (n: "acme-${n}.service") acmeHosts;
      after = map (n: "acme-${n}.service") acmeHosts;
      serviceConfig = {
        ExecStart = [ "" "/usr/bin/caddy run ${runOptions}${optionalString cfg.resume " --resume"}" ];
        ExecReload = [ "" ] ++ lib.optional cfg.enableReload "/usr/bin/caddy reload ${runOptions} --force";
        User = cfg.user;
        Group = cfg.group;
        ReadWritePaths = [ cfg.dataDir cfg.logDir ];
        Restart = "on-failure";
        RestartPreventExitStatus = 1;
        RestartSec = "5s";
      } // lib.optionalAttrs (cfg.environmentFile != null) { EnvironmentFile = cfg.environmentFile; };
    };
  };
}
