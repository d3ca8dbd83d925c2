# services.bind (NixOS: nixos/modules/services/networking/bind.nix): BIND's named as NixOS
# runs it, as bind.service under the account named, from a named.conf written as NixOS
# writes it (the rndc key and control channel, the cache and blocked networks as ACLs,
# forwarders, and one zone block per zone: a primary with its transfer list, or a secondary
# with its primaries). The file is at Debian's /etc/bind/named.conf in place of Debian's,
# whose named.service stays disabled. The rndc key is made on the first start, as NixOS
# makes it.
#
# The machine's own lookups go to named first (NixOS: networking.resolvconf.useLocalResolver):
# here 127.0.0.1 comes first in networking.nameservers, and so forwarders' default leaves
# loopback addresses out, or named would forward to itself.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption concatMapStrings;
  cfg = config.services.bind;
  user = "named";
  block = entries: "{ ${concatMapStrings (e: " ${e}; ") entries} }";
  loopback = [ "127.0.0.1" "::1" ];

  zoneOptions = { name, ... }: {
    options = {
      name = mkOption { type = types.str; default = name; description = "The zone's name."; };
      master = mkOption { type = types.bool; description = "Whether this server is the zone's primary (false: a secondary)."; };
      file = mkOption { type = types.either types.str types.path; description = "The zone file (for a secondary, where the transferred zone is kept)."; };
      masters = mkOption { type = types.listOf types.str; default = [ ]; description = "A secondary's primaries."; };
      slaves = mkOption { type = types.listOf types.str; default = [ ]; description = "The addresses a primary lets transfer the zone."; };
      allowQuery = mkOption { type = types.listOf types.str; default = [ "0.0.0.0/0" "::/0" ]; description = "Who may query the zone."; };
      extraConfig = mkOption { type = types.lines; default = ""; description = "Lines added at the end of the zone block."; };
    };
  };
  # NixOS takes a list of zones too, each with its name.
  zonesByName = list: builtins.listToAttrs (map (z: { name = z.name; value = z; }) list);

  zoneText = z: ''
    zone "${z.name}" {
      type ${if z.master then "master" else "slave"};
      file "${toString z.file}";
      ${if z.master then "allow-transfer ${block z.slaves};" else "masters ${block z.masters};"}
      allow-query ${block z.allowQuery};
      ${z.extraConfig}
    };
  '';

  confText = ''
    include "/etc/bind/rndc.key";
    controls {
      inet 127.0.0.1 allow {localhost;} keys {"rndc-key";};
    };

    acl cachenetworks ${block cfg.cacheNetworks};
    acl badnetworks ${block cfg.blockedNetworks};

    options {
      listen-on port ${toString cfg.listenOnPort} ${block cfg.listenOn};
      listen-on-v6 port ${toString cfg.listenOnIpv6Port} ${block cfg.listenOnIpv6};
      allow-query-cache { cachenetworks; };
      blackhole { badnetworks; };
      forward ${cfg.forward};
      forwarders ${block cfg.forwarders};
      directory "${cfg.directory}";
      pid-file "/run/named/named.pid";
      ${cfg.extraOptions}
    };

    ${cfg.extraConfig}

    ${concatMapStrings zoneText (builtins.attrValues cfg.zones)}
  '';
in
{
  options.services.bind = {
    enable = lib.mkEnableOption "BIND domain name server";
    package = mkOption { type = types.package; default = pkgs.bind9; defaultText = lib.literalExpression "pkgs.bind"; description = "The BIND package (Debian's bind9)."; };
    cacheNetworks = mkOption { type = types.listOf types.str; default = [ "127.0.0.0/24" "::1/128" ]; description = "The networks that may use this server as a recursive resolver; every network may query the zones."; };
    blockedNetworks = mkOption { type = types.listOf types.str; default = [ ]; description = "The networks whose queries are ignored."; };
    ipv4Only = mkOption { type = types.bool; default = false; description = "Whether named uses IPv4 only (-4)."; };
    forwarders = mkOption {
      type = types.listOf types.str;
      default = builtins.filter (n: !(builtins.elem n loopback)) config.networking.nameservers;
      defaultText = lib.literalExpression "config.networking.nameservers, without loopback addresses";
      description = "The servers recursive queries go to first.";
    };
    forward = mkOption { type = types.enum [ "first" "only" ]; default = "first"; description = "Whether named resolves by itself when the forwarders fail (first) or not (only)."; };
    listenOn = mkOption { type = types.listOf types.str; default = [ "any" ]; description = "The IPv4 addresses named listens on."; };
    listenOnPort = mkOption { type = types.port; default = 53; description = "The port named listens on for IPv4."; };
    listenOnIpv6 = mkOption { type = types.listOf types.str; default = [ "any" ]; description = "The IPv6 addresses named listens on."; };
    listenOnIpv6Port = mkOption { type = types.port; default = 53; description = "The port named listens on for IPv6."; };
    directory = mkOption { type = types.str; default = "/run/named"; description = "named's working directory (where secondaries keep their zones unless a path is absolute)."; };
    zones = mkOption {
      type = types.coercedTo (types.listOf types.attrs) zonesByName (types.attrsOf (types.submodule zoneOptions));
      default = [ ];
      example = lib.literalExpression ''{ "example.com" = { master = false; file = "/var/dns/example.com"; masters = [ "192.168.0.1" ]; }; }'';
      description = "The zones this server is authoritative for.";
    };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Lines added to named.conf after the options block."; };
    extraOptions = mkOption { type = types.lines; default = ""; description = "Lines added inside the options block."; };
    extraArgs = mkOption { type = types.listOf types.str; default = [ ]; description = "More arguments for named."; };
    configFile = mkOption {
      type = types.path;
      default = "/etc/bind/named.conf";
      description = "The file named reads: by default the one written from these options.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    networking.nameservers = lib.mkBefore [ "127.0.0.1" ];
    users.users.${user} = { isSystemUser = true; group = user; description = "BIND daemon user"; };
    users.groups.${user} = { };
    environment.etc."bind/named.conf".text = confText;
    systemd.services.bind = {
      description = "BIND Domain Name Server";
      documentation = [ "man:named(8)" ];
      after = [ "network.target" ];
      wantedBy = [ "multi-user.target" ];
      preStart = ''
        mkdir -m 0755 -p /etc/bind
        if ! [ -f /etc/bind/rndc.key ]; then
          /usr/sbin/rndc-confgen -c /etc/bind/rndc.key -u ${user} -a -A hmac-sha256 2>/dev/null
        fi
        mkdir -p /run/named ${cfg.directory}
        chown ${user} /run/named ${cfg.directory}
      '';
      serviceConfig = {
        ExecStart = "/usr/sbin/named -u ${user} ${lib.optionalString cfg.ipv4Only "-4"} -c ${toString cfg.configFile} -f ${lib.escapeShellArgs cfg.extraArgs}";
        ExecReload = "/usr/sbin/rndc -k /etc/bind/rndc.key reload";
        ExecStop = "/usr/sbin/rndc -k /etc/bind/rndc.key stop";
      };
    };
  };
}
