# services.unbound (NixOS: nixos/modules/services/networking/unbound.nix): a validating,
# caching DNS resolver. `settings` becomes unbound.conf as NixOS writes it (sections of
# `key: value` lines, lists repeated, booleans yes/no), at Debian's /etc/unbound/unbound.conf
# in place of Debian's file and its conf.d; Debian's unit starts it in the foreground and
# keeps the root trust anchor in the state directory up to date from dns-root-data.
# resolveLocalQueries points the machine's own lookups at it, as on NixOS. tls-cert-bundle
# is security.pki's bundle, and left out without one: unbound refuses to start when the
# file is missing.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption mkDefault;
  inherit (builtins) isBool isInt isFloat isString isList isAttrs concatStringsSep;
  cfg = config.services.unbound;

  yesOrNo = v: if v then "yes" else "no";
  toOption = indent: n: v: "${indent}${toString n}: ${v}";
  toConf = indent: n: v:
    if isFloat v || isInt v then toOption indent n (toString v)
    else if isBool v then toOption indent n (yesOrNo v)
    else if isString v then toOption indent n v
    else if isList v then concatStringsSep "\n" (map (toConf indent n) v)
    else if isAttrs v then concatStringsSep "\n" ([ "${indent}${n}:" ] ++ lib.mapAttrsToList (toConf "${indent}  ") v)
    else throw "services.unbound.settings.${n}: a value unbound.conf cannot hold";

  confText = concatStringsSep "\n" (lib.mapAttrsToList (toConf "") (lib.filterAttrs (n: _: n != "include") cfg.settings)) + "\n"
    + lib.optionalString (cfg.settings ? include) (concatStringsSep "\n" (map (f: "include: ${f}") (lib.toList cfg.settings.include)) + "\n");
  atom = types.oneOf [ types.bool types.int types.float types.str ];
  value = types.either atom (types.listOf atom);
in
{
  options.services.unbound = {
    enable = lib.mkEnableOption "the Unbound domain name server";
    package = mkOption { type = types.package; default = pkgs.unbound; defaultText = lib.literalExpression "pkgs.unbound"; description = "The Unbound package."; };
    user = mkOption { type = types.str; default = "unbound"; description = "The account Unbound runs as."; };
    group = mkOption { type = types.str; default = "unbound"; description = "The group Unbound runs as."; };
    stateDir = mkOption { type = types.str; default = "/var/lib/unbound"; description = "Where Unbound keeps its state (the root trust anchor)."; };
    checkconf = mkOption { type = types.bool; default = true; description = "Whether unbound-checkconf checks the file before each start."; };
    resolveLocalQueries = mkOption { type = types.bool; default = true; description = "Whether the machine's own lookups go to Unbound (networking.nameservers = [ \"127.0.0.1\" ])."; };
    enableRootTrustAnchor = mkOption { type = types.bool; default = true; description = "Whether answers are validated with DNSSEC from the root trust anchor."; };
    localControlSocketPath = mkOption { type = types.nullOr types.str; default = null; example = "/run/unbound/unbound.ctl"; description = "A Unix socket for unbound-control, instead of none."; };
    settings = mkOption {
      type = types.submodule {
        # As NixOS types it: a section is a string or settings, or a list of them (forward-zone).
        freeformType = let section = types.either types.str (types.attrsOf value); in
          types.attrsOf (types.either section (types.listOf section));
        options.server = mkOption {
          type = types.submodule { freeformType = types.attrsOf value; };
          default = { };
          description = "The server: section.";
        };
        options.remote-control = mkOption {
          type = types.submodule { freeformType = types.attrsOf value; };
          default = { };
          description = "The remote-control: section.";
        };
      };
      default = { };
      example = lib.literalExpression ''{ server.interface = [ "0.0.0.0" ]; forward-zone = [ { name = "."; forward-addr = "9.9.9.9"; } ]; }'';
      description = "unbound.conf(5), section by section (server, remote-control, forward-zone, stub-zone, ...).";
    };
  };

  config = lib.mkIf cfg.enable {
    services.unbound.settings = {
      server = {
        directory = mkDefault cfg.stateDir;
        username = mkDefault cfg.user;
        chroot = mkDefault ''""'';
        pidfile = mkDefault ''""'';
        do-daemonize = mkDefault false;
        interface = mkDefault ([ "127.0.0.1" ] ++ lib.optional config.networking.enableIPv6 "::1");
        access-control = mkDefault ([ "127.0.0.0/8 allow" ] ++ lib.optional config.networking.enableIPv6 "::1/128 allow");
      } // lib.optionalAttrs config.security.pki.installCACerts {
        tls-cert-bundle = mkDefault "/etc/ssl/certs/ca-certificates.crt";
      } // lib.optionalAttrs cfg.enableRootTrustAnchor {
        auto-trust-anchor-file = "${cfg.stateDir}/root.key";
      };
      remote-control = {
        control-enable = mkDefault (cfg.localControlSocketPath != null);
      } // lib.optionalAttrs (cfg.localControlSocketPath != null) {
        control-interface = mkDefault cfg.localControlSocketPath;
        control-use-cert = mkDefault false;
      };
    };
    environment.systemPackages = [ cfg.package ] ++ lib.optional cfg.enableRootTrustAnchor pkgs.dns-root-data;
    users.users = lib.mkIf (cfg.user == "unbound") { unbound = { isSystemUser = true; group = cfg.group; home = cfg.stateDir; description = "Unbound DNS resolver"; }; };
    users.groups = lib.mkIf (cfg.group == "unbound") { unbound = { }; };
    networking.nameservers = lib.mkIf cfg.resolveLocalQueries [ "127.0.0.1" ];
    environment.etc."unbound/unbound.conf".text = confText;
    systemd.tmpfiles.rules = [ "d ${cfg.stateDir} 0755 ${cfg.user} ${cfg.group} - -" ];
    systemd.services.unbound = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      # The first start seeds the trust anchor from dns-root-data (Debian's helper does so
      # only for its own state directory); unbound keeps it up to date from then on.
      # checkconf names a mistake in the journal before unbound starts.
      serviceConfig.ExecStartPre = lib.optional cfg.enableRootTrustAnchor
          "+/bin/sh -c 'test -s ${cfg.stateDir}/root.key || install -o ${cfg.user} -g ${cfg.group} -m 0644 /usr/share/dns/root.key ${cfg.stateDir}/root.key'"
        ++ lib.optional cfg.checkconf "/usr/sbin/unbound-checkconf /etc/unbound/unbound.conf";
    };
  };
}
