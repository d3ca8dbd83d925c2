# Avahi, mDNS/DNS-SD (NixOS: nixos/modules/services/networking/avahi-daemon.nix): the
# machine answers to <hostName>.local, publishes services (a file server's SMB share) for
# others to find, and with nssmdns4 looks up other machines' .local names through
# libnss-mdns in /etc/nsswitch.conf.
#
# avahi-daemon.conf is written as NixOS writes it. Debian's avahi-daemon ships the units;
# enabling them, and the avahi account, is what its maintainer scripts would do. Debian's
# daemon chroots into /etc/avahi, where the service files' links into /etc/static lead
# nowhere; it runs without the chroot, as NixOS's does.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption optionalString concatStringsSep;
  cfg = config.services.avahi;
  yesNo = b: if b then "yes" else "no";
  mdns =
    if cfg.nssmdns4 && cfg.nssmdns6 then "mdns"
    else if cfg.nssmdns6 then "mdns6"
    else "mdns4";
  avahiConf = ''
    [server]
    ${optionalString (cfg.hostName != "") "host-name=${cfg.hostName}"}
    browse-domains=${concatStringsSep ", " cfg.browseDomains}
    use-ipv4=${yesNo cfg.ipv4}
    use-ipv6=${yesNo cfg.ipv6}
    ${optionalString (cfg.allowInterfaces != null) "allow-interfaces=${concatStringsSep "," cfg.allowInterfaces}"}
    ${optionalString (cfg.denyInterfaces != null) "deny-interfaces=${concatStringsSep "," cfg.denyInterfaces}"}
    ${optionalString (cfg.domainName != null) "domain-name=${cfg.domainName}"}
    allow-point-to-point=${yesNo cfg.allowPointToPoint}
    ${optionalString (cfg.cacheEntriesMax != null) "cache-entries-max=${toString cfg.cacheEntriesMax}"}

    [wide-area]
    enable-wide-area=${yesNo cfg.wideArea}

    [publish]
    disable-publishing=${yesNo (!cfg.publish.enable)}
    disable-user-service-publishing=${yesNo (!cfg.publish.userServices)}
    publish-addresses=${yesNo (cfg.publish.userServices || cfg.publish.addresses)}
    publish-hinfo=${yesNo cfg.publish.hinfo}
    publish-workstation=${yesNo cfg.publish.workstation}
    publish-domain=${yesNo cfg.publish.domain}

    [reflector]
    enable-reflector=${yesNo cfg.reflector}
    ${cfg.extraConfig}
  '';
  flag = description: mkOption { type = types.bool; default = false; inherit description; };
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "services" "avahi" "nssmdns" ] [ "services" "avahi" "nssmdns4" ])
  ];

  options.services.avahi = {
    enable = lib.mkEnableOption "the Avahi mDNS/DNS-SD daemon";
    package = mkOption {
      type = types.package;
      default = pkgs.avahi-daemon;
      defaultText = lib.literalExpression "pkgs.avahi-daemon";
      description = "The daemon's package (pkgs.avahi means the same).";
    };
    hostName = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "The name the machine answers to (<hostName>.<domainName>); empty lets Avahi use the running host name.";
    };
    domainName = mkOption {
      type = types.nullOr types.str;
      default = "local";
      description = "The mDNS domain.";
    };
    browseDomains = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "0pointer.de" "zeroconf.org" ];
      description = "Wide-area DNS-SD domains browsed besides the local one.";
    };
    ipv4 = mkOption { type = types.bool; default = true; description = "Whether Avahi uses IPv4."; };
    ipv6 = mkOption {
      type = types.bool;
      default = config.networking.enableIPv6;
      defaultText = lib.literalExpression "config.networking.enableIPv6";
      description = "Whether Avahi uses IPv6.";
    };
    allowInterfaces = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      description = "The only interfaces Avahi uses (null: all but those in denyInterfaces).";
    };
    denyInterfaces = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      description = "Interfaces Avahi leaves alone (they win over allowInterfaces).";
    };
    allowPointToPoint = flag "Whether point-to-point interfaces (VPN tunnels) are used; their multicast may be unreliable.";
    wideArea = mkOption { type = types.bool; default = true; description = "Whether wide-area DNS-SD is on."; };
    reflector = flag "Whether mDNS traffic is reflected between the interfaces.";
    openFirewall = mkOption { type = types.bool; default = true; description = "Whether UDP port 5353 is opened in the firewall."; };
    cacheEntriesMax = mkOption {
      type = types.nullOr types.int;
      default = null;
      description = "How many resource records are cached per interface (null: Avahi's default).";
    };
    publish = {
      enable = flag "Whether anything is published (the other publish options need it).";
      userServices = flag "Whether services of local users (avahi-publish, other programs through D-Bus) are published; implies addresses.";
      addresses = flag "Whether the machine's addresses are published under its name.";
      hinfo = flag "Whether the machine's CPU and OS are published (HINFO).";
      workstation = flag "Whether a _workstation._tcp service is published, as Linux desktops show it.";
      domain = flag "Whether the domain is announced for browsing.";
    };
    extraServiceFiles = mkOption {
      type = types.attrsOf types.lines;
      default = { };
      example = lib.literalExpression ''{ ssh = "''${pkgs.avahi}/etc/avahi/services/ssh.service"; }'';
      description = "Service files (/etc/avahi/services/<name>.service): the XML, or the path of a file to link.";
    };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Added to the end of avahi-daemon.conf.";
    };
    nssmdns4 = flag "Whether other machines' .local names resolve over IPv4 (libnss-mdns in the hosts database).";
    nssmdns6 = flag "Whether other machines' .local names resolve over IPv6 (libnss-mdns in the hosts database).";
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    users.users.avahi = { isSystemUser = true; group = "avahi"; home = "/run/avahi-daemon"; description = "Avahi mDNS daemon"; };
    users.groups.avahi = { };
    system.nssModules = lib.optional (cfg.nssmdns4 || cfg.nssmdns6) pkgs.libnss-mdns;
    system.nssDatabases.hosts = lib.mkIf (cfg.nssmdns4 || cfg.nssmdns6) (lib.mkMerge [
      (lib.mkBefore [ "${mdns}_minimal [NOTFOUND=return]" ])
      (lib.mkAfter [ mdns ])
    ]);
    networking.firewall.allowedUDPPorts = lib.mkIf cfg.openFirewall [ 5353 ];
    systemd.services.avahi-daemon = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      # An empty ExecStart= clears the package's.
      serviceConfig.ExecStart = [ "" "/usr/sbin/avahi-daemon --syslog --no-chroot" ];
    };
    environment.etc = {
      "avahi/avahi-daemon.conf".text = avahiConf;
      "systemd/system/sockets.target.wants/avahi-daemon.socket".source = "/lib/systemd/system/avahi-daemon.socket";
      # What `systemctl enable` makes of the unit's Alias=: the bus starts it by this name.
      "systemd/system/dbus-org.freedesktop.Avahi.service".source = "/lib/systemd/system/avahi-daemon.service";
    } // lib.mapAttrs' (name: text: lib.nameValuePair "avahi/services/${name}.service"
      (if lib.hasPrefix "/" text && !(lib.hasInfix "\n" text) then { source = text; } else { inherit text; }))
      cfg.extraServiceFiles;
  };
}
