# systemd-resolved (NixOS: nixos/modules/system/boot/resolved.nix): DNS for a system whose
# addresses come from DHCP. It is on by default wherever systemd-networkd configures an
# interface (networking.useDHCP), as with NixOS's networkd. /etc/resolv.conf links to
# /run/systemd/resolve/resolv.conf, which names the servers resolved uses (the ones DHCP
# offered, or networking.nameservers), so every program asks them directly.
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
      "systemd/system/multi-user.target.wants/systemd-resolved.service".source = "/lib/systemd/system/systemd-resolved.service";
      "systemd/system/dbus-org.freedesktop.resolve1.service".source = "/lib/systemd/system/systemd-resolved.service";
    };
  };
}
