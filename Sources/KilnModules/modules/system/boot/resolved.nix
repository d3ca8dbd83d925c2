# systemd-resolved (NixOS: nixos/modules/system/boot/resolved.nix): DNS for a system whose
# addresses come from DHCP. It is on by default wherever systemd-networkd configures an
# interface (networking.useDHCP) and no static networking.nameservers are set, as with
# NixOS's networkd. /etc/resolv.conf links to /run/systemd/resolve/resolv.conf, which names
# the servers resolved uses (the ones DHCP offered), so every program can ask them directly
# before resolved runs; once it runs, glibc asks resolved itself (nss-resolve).
#
# resolved is started once network.target is reached, by systemd-resolved-late.service:
# its own unit orders it before network.target, and so before every login prompt and sshd,
# which costs seconds under emulation while nothing can use it before DHCP anyway. It reads
# the servers of networkd's leases from networkd's state whenever it starts.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption concatStringsSep;
  cfg = config.services.resolved;
  net = config.networking;
  domains = lib.optional (net.domain != null) net.domain ++ net.search ++ cfg.domains;
in
{
  options.services.resolved = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether systemd-resolved looks up names (on by default when systemd-networkd does DHCP).";
    };
    fallbackDns = mkOption {
      type = types.nullOr (types.listOf types.str);
      default = null;
      example = [ "9.9.9.9" ];
      description = "Servers used when no other is known (FallbackDNS=); null keeps resolved's built-in list.";
    };
    domains = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Search domains (Domains=), after networking.domain and networking.search.";
    };
    dnssec = mkOption {
      type = types.enum [ "true" "allow-downgrade" "false" ];
      default = "false";
      description = "Whether answers are checked with DNSSEC (DNSSEC=).";
    };
    llmnr = mkOption {
      type = types.enum [ "true" "resolve" "false" ];
      default = "true";
      description = "Link-local multicast name resolution (LLMNR=).";
    };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Lines added to the [Resolve] section of resolved.conf.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.systemd-resolved ];
    # resolved runs as this user (Debian's sysusers.d/systemd-resolve.conf).
    users.users.systemd-resolve = { isSystemUser = true; group = "systemd-resolve"; description = "systemd Resolver"; };
    users.groups.systemd-resolve = { };
    environment.etc = {
      "systemd/resolved.conf".text = ''
        [Resolve]
      '' + lib.optionalString (net.nameservers != [ ]) "DNS=${concatStringsSep " " net.nameservers}\n"
        + lib.optionalString (cfg.fallbackDns != null) "FallbackDNS=${concatStringsSep " " cfg.fallbackDns}\n"
        + lib.optionalString (domains != [ ]) "Domains=${concatStringsSep " " domains}\n"
        + ''
        DNSSEC=${cfg.dnssec}
        LLMNR=${cfg.llmnr}
      '' + cfg.extraConfig;
      "resolv.conf".source = "/run/systemd/resolve/resolv.conf";
      "systemd/system/dbus-org.freedesktop.resolve1.service".source = "/lib/systemd/system/systemd-resolved.service";
    };
    # Programs ask resolved through its NSS module, as on NixOS, so that a link's own servers
    # and routing domains (a VPN's ~office.example) apply to them too: the uplink
    # resolv.conf leaves out the servers of links that only route some domains. Until
    # resolved has started, the module is unavailable and "dns" asks resolv.conf's servers.
    system.nssModules = [ pkgs.libnss-resolve ];
    system.nssDatabases.hosts = lib.mkOrder 501 [ "resolve [!UNAVAIL=return]" ];
    systemd.services.systemd-resolved-late = {
      description = "Start systemd-resolved after the network is configured";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      serviceConfig = { Type = "oneshot"; ExecStart = "/bin/systemctl start --no-block systemd-resolved.service"; };
    };
  };
}
