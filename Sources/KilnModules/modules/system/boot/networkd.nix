# systemd.network (NixOS: nixos/modules/system/boot/networkd.nix): .network, .netdev and
# .link files for Debian's systemd-networkd, written from attribute sets as NixOS writes
# them, and networkd.conf. Kiln's own networking (config/networking.nix) already runs
# networkd for DHCP; these are the files a user writes to configure it directly: bridges,
# VLANs, WireGuard netdevs, networkd's DHCP server, routes and policy rules.
#
# Section options take systemd's own names (networkConfig.DHCP = "ipv4"); the list-valued
# sections (addresses, routes, wireguardPeers, ...) take each section either as its settings
# (NixOS 24.11) or wrapped as before ({ routeConfig = { ... }; }).
#
# Unlike NixOS, systemd-networkd-wait-online is off unless wait-online.enable is set: Kiln's
# machines never waited for it, and a bridge without ports would hold the boot for two minutes.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep isAttrs head;
  slib = import ./systemd-lib.nix { inherit lib; };
  cfg = config.systemd.network;

  sectionOption = header: mkOption {
    type = types.attrsOf slib.unitOption;
    default = { };
    description = "Settings of the [${header}] section (see systemd.network(5), systemd.netdev(5), systemd.link(5)).";
  };
  # A list of sections of one kind; each element its settings, or them under `legacy`.
  sectionListOption = header: legacy: mkOption {
    type = types.listOf (types.attrsOf types.anything);
    default = [ ];
    description = "[${header}] sections, one per element: its settings, or them as `${legacy}`.";
  };
  unwrap = legacy: s: if attrNames s == [ legacy ] && isAttrs s.${legacy} then s.${legacy} else s;

  render = header: attrs: lib.optionalString (attrs != { }) "[${header}]\n${slib.section attrs}\n";

  # option name -> section header, in the order NixOS writes them.
  commonSections = [ [ "matchConfig" "Match" ] ];
  linkSections = commonSections ++ [ [ "linkConfig" "Link" ] ];
  netdevSections = commonSections ++ [
    [ "netdevConfig" "NetDev" ] [ "bridgeConfig" "Bridge" ] [ "vlanConfig" "VLAN" ] [ "ipvlanConfig" "IPVLAN" ]
    [ "ipvtapConfig" "IPVTAP" ] [ "macvlanConfig" "MACVLAN" ] [ "vxlanConfig" "VXLAN" ] [ "tunnelConfig" "Tunnel" ]
    [ "fooOverUDPConfig" "FooOverUDP" ] [ "peerConfig" "Peer" ] [ "tunConfig" "Tun" ] [ "tapConfig" "Tap" ]
    [ "l2tpConfig" "L2TP" ] [ "wireguardConfig" "WireGuard" ] [ "bondConfig" "Bond" ] [ "xfrmConfig" "Xfrm" ]
    [ "vrfConfig" "VRF" ] [ "batmanAdvancedConfig" "BatmanAdvanced" ]
  ];
  netdevLists = [ [ "wireguardPeers" "WireGuardPeer" "wireguardPeerConfig" ] [ "l2tpSessions" "L2TPSession" "l2tpSessionConfig" ] ];
  networkSections = commonSections ++ [
    [ "linkConfig" "Link" ] [ "networkConfig" "Network" ] [ "dhcpV4Config" "DHCPv4" ] [ "dhcpV6Config" "DHCPv6" ]
    [ "dhcpPrefixDelegationConfig" "DHCPPrefixDelegation" ] [ "ipv6AcceptRAConfig" "IPv6AcceptRA" ]
    [ "dhcpServerConfig" "DHCPServer" ] [ "ipv6SendRAConfig" "IPv6SendRA" ] [ "bridgeConfig" "Bridge" ]
    [ "lldpConfig" "LLDP" ] [ "canConfig" "CAN" ] [ "cakeConfig" "CAKE" ]
  ];
  networkLists = [
    [ "addresses" "Address" "addressConfig" ] [ "routes" "Route" "routeConfig" ]
    [ "routingPolicyRules" "RoutingPolicyRule" "routingPolicyRuleConfig" ]
    [ "dhcpServerStaticLeases" "DHCPServerStaticLease" "dhcpServerStaticLeaseConfig" ]
    [ "ipv6Prefixes" "IPv6Prefix" "ipv6PrefixConfig" ] [ "bridgeFDBs" "BridgeFDB" "bridgeFDBConfig" ]
  ];
  # [Network] settings with options of their own, as NixOS has them: option -> key.
  networkShorthands = {
    address = "Address"; gateway = "Gateway"; dns = "DNS"; ntp = "NTP"; domains = "Domains";
    vlan = "VLAN"; macvlan = "MACVLAN"; vxlan = "VXLAN"; tunnel = "Tunnel"; xfrm = "Xfrm";
    bridge = "Bridge"; bond = "Bond"; vrf = "VRF";
  };

  unitOptions = sections: lists: {
    enable = mkOption { type = types.bool; default = true; description = "Whether this file is written."; };
    extraConfig = mkOption { type = types.lines; default = ""; description = "Text added at the end of the file."; };
  } // lib.listToAttrs (map (s: lib.nameValuePair (head s) (sectionOption (lib.elemAt s 1))) sections)
    // lib.listToAttrs (map (s: lib.nameValuePair (head s) (sectionListOption (lib.elemAt s 1) (lib.elemAt s 2))) lists);

  renderUnit = sections: lists: extra: u:
    concatStringsSep "" (map (s: render (lib.elemAt s 1) ((extra.${head s} or (_: { })) u // u.${head s})) sections)
    + concatStringsSep "" (lib.concatMap (l: map (s: render (lib.elemAt l 1) (unwrap (lib.elemAt l 2) s)) u.${head l}) lists)
    + u.extraConfig;

  networkSubmodule = { name, config, ... }: {
    options = unitOptions networkSections networkLists // lib.mapAttrs (opt: key: mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "`${key}=` lines of the [Network] section.";
    }) networkShorthands // {
      name = mkOption { type = types.nullOr types.str; default = null; description = "The interface to match: Name= in [Match]."; };
      DHCP = mkOption { type = types.nullOr (types.enum [ "yes" "no" "ipv4" "ipv6" ]); default = null; description = "DHCP= in [Network]."; };
    };
  };
  # The [Match] and [Network] lines that come from the shorthand options.
  networkExtras = {
    matchConfig = u: lib.optionalAttrs (u.name != null) { Name = u.name; };
    networkConfig = u: lib.filterAttrs (_: v: v != [ ] && v != null)
      (lib.mapAttrs' (opt: key: lib.nameValuePair key u.${opt}) networkShorthands // { DHCP = u.DHCP; });
  };

  # networkd.conf's sections; empty when systemd.network.config sets nothing.
  networkdConf = render "Network" (cfg.config.networkConfig // lib.optionalAttrs (cfg.config.routeTables != { }) {
      RouteTable = lib.mapAttrsToList (n: v: "${n}:${toString v}") cfg.config.routeTables; })
    + render "DHCPv4" cfg.config.dhcpV4Config
    + render "DHCPv6" cfg.config.dhcpV6Config;

  files = suffix: units: sections: lists: extra:
    lib.mapAttrs' (name: u: lib.nameValuePair "systemd/network/${name}.${suffix}" {
      text = renderUnit sections lists extra u;
    }) (lib.filterAttrs (_: u: u.enable) units);
in
{
  options.systemd.network = {
    enable = lib.mkEnableOption "systemd-networkd with the files of systemd.network";
    links = mkOption {
      type = types.attrsOf (types.submodule { options = unitOptions linkSections [ ]; });
      default = { };
      description = ".link files (udev's naming and link settings), by file name without .link.";
    };
    netdevs = mkOption {
      type = types.attrsOf (types.submodule { options = unitOptions netdevSections netdevLists; });
      default = { };
      example = lib.literalExpression ''{ "20-br0".netdevConfig = { Kind = "bridge"; Name = "br0"; }; }'';
      description = ".netdev files (virtual devices: bridges, VLANs, WireGuard, ...), by file name without .netdev.";
    };
    networks = mkOption {
      type = types.attrsOf (types.submodule networkSubmodule);
      default = { };
      example = lib.literalExpression ''{ "10-lan" = { matchConfig.Name = "eth0"; address = [ "192.168.1.2/24" ]; }; }'';
      description = ".network files, by file name without .network.";
    };
    config = {
      networkConfig = sectionOption "Network";
      dhcpV4Config = sectionOption "DHCPv4";
      dhcpV6Config = sectionOption "DHCPv6";
      routeTables = mkOption { type = types.attrsOf types.int; default = { }; example = { foo = 27; }; description = "Route table names, as RouteTable= name:number."; };
    };
    wait-online = {
      enable = mkOption { type = types.bool; default = false; description = "Whether network-online.target waits for systemd-networkd-wait-online (off by default in Kiln, on in NixOS)."; };
      anyInterface = mkOption { type = types.bool; default = false; description = "Whether one interface online is enough."; };
      ignoredInterfaces = mkOption { type = types.listOf types.str; default = [ ]; description = "Interfaces wait-online does not wait for."; };
      timeout = mkOption { type = types.ints.unsigned; default = 120; description = "Seconds it waits at most (0: forever)."; };
      extraArgs = mkOption { type = types.listOf types.str; default = [ ]; description = "More systemd-networkd-wait-online arguments."; };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = lib.mapAttrsToList (name: d: {
      assertion = !d.enable || (d.netdevConfig ? Name && d.netdevConfig ? Kind);
      message = "systemd.network.netdevs.\"${name}\".netdevConfig: needs Name and Kind.";
    }) cfg.netdevs;
    environment.etc = files "link" cfg.links linkSections [ ] { }
      // files "netdev" cfg.netdevs netdevSections netdevLists { }
      // files "network" cfg.networks networkSections networkLists networkExtras
      // lib.optionalAttrs (networkdConf != "") {
        "systemd/networkd.conf.d/kiln.conf".text = "# Generated by Kiln from systemd.network.config.\n" + networkdConf;
      }
      // lib.optionalAttrs cfg.wait-online.enable {
        "systemd/system/network-online.target.wants/systemd-networkd-wait-online.service".source =
          "/lib/systemd/system/systemd-networkd-wait-online.service";
      };
    systemd.services.systemd-networkd-wait-online = lib.mkIf cfg.wait-online.enable {
      overrideStrategy = "asDropin";
      serviceConfig.ExecStart = [ "" (concatStringsSep " " ([ "/lib/systemd/systemd-networkd-wait-online" "--timeout=${toString cfg.wait-online.timeout}" ]
        ++ lib.optional cfg.wait-online.anyInterface "--any"
        ++ map (i: "--ignore=${i}") cfg.wait-online.ignoredInterfaces
        ++ cfg.wait-online.extraArgs)) ];
    };
  };
}
