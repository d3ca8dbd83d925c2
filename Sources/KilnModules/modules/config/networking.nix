# The host's name and network (NixOS: nixos/modules/config/networking.nix and
# tasks/network-interfaces{,-scripted}.nix): /etc/hostname, /etc/hosts, /etc/resolv.conf;
# bridges, VLANs, static addresses and the default gateway by `network-setup.service` (ip,
# from iproute2);
# DHCP by systemd-networkd (part of Debian's systemd package), which gets a .network file
# per DHCP interface (all Ethernet cards with networking.useDHCP) and leaves the statically
# configured ones alone.
#
# DNS: with systemd-networkd in use, systemd-resolved (system/boot/resolved.nix) is on by
# default and /etc/resolv.conf names the servers DHCP offered; otherwise resolv.conf is
# written from networking.nameservers, search and domain.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames attrValues concatStringsSep concatMap filter isString;
  cfg = config.networking;
  q = lib.escapeShellArg;

  addressOptions = {
    options = {
      address = mkOption {
        type = types.str;
        description = "The address, without prefix length.";
      };
      prefixLength = mkOption {
        type = types.ints.between 0 128;
        description = "The subnet's prefix length (24 for a /24).";
      };
    };
  };

  interfaceOptions = { name, ... }: {
    options = {
      name = mkOption {
        type = types.str;
        default = name;
        description = "The interface's name (eth0, ens3, ...).";
      };
      useDHCP = mkOption {
        type = types.nullOr types.bool;
        default = null;
        description = "Whether this interface gets its address by DHCP; null follows networking.useDHCP (unless it has static addresses).";
      };
      ipv4.addresses = mkOption {
        type = types.listOf (types.submodule addressOptions);
        default = [ ];
        example = [ { address = "192.168.1.2"; prefixLength = 24; } ];
        description = "Static IPv4 addresses of the interface.";
      };
      ipv6.addresses = mkOption {
        type = types.listOf (types.submodule addressOptions);
        default = [ ];
        example = [ { address = "fd00::2"; prefixLength = 64; } ];
        description = "Static IPv6 addresses of the interface.";
      };
      mtu = mkOption {
        type = types.nullOr types.int;
        default = null;
        description = "The interface's MTU; null keeps the driver's.";
      };
    };
  };

  gatewayType = types.coercedTo types.str (address: { inherit address; }) (types.submodule {
    options = {
      address = mkOption {
        type = types.str;
        description = "The gateway's address.";
      };
      interface = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The interface the gateway is on; null lets the kernel find it.";
      };
      metric = mkOption {
        type = types.nullOr types.int;
        default = null;
        description = "The route's metric.";
      };
    };
  });

  interfaces = attrValues cfg.interfaces;
  isStatic = i: i.ipv4.addresses != [ ] || i.ipv6.addresses != [ ] || i.mtu != null;
  staticInterfaces = filter isStatic interfaces;
  dhcpInterfaces = filter (i: i.useDHCP == true) interfaces;
  bridgeMembers = lib.unique (concatMap (b: b.interfaces) (attrValues cfg.bridges));
  # Interfaces a DHCP daemon (networkd, NetworkManager) must leave alone: the ones
  # configured here without DHCP, and the ports of bridges (their bridge has the address).
  unmanaged = filter (i: i.useDHCP != true && (isStatic i || i.useDHCP == false) && !(builtins.elem i.name bridgeMembers)) interfaces
    ++ map (name: { inherit name; port = true; }) bridgeMembers;
  useNetworkd = cfg.useDHCP || dhcpInterfaces != [ ] || config.systemd.network.enable;
  gateways = lib.optional (cfg.defaultGateway != null) { family = "-4"; gw = cfg.defaultGateway; }
    ++ lib.optional (cfg.defaultGateway6 != null) { family = "-6"; gw = cfg.defaultGateway6; };
  needsSetup = staticInterfaces != [ ] || gateways != [ ] || cfg.vlans != { } || cfg.bridges != { };
  fqdn = if cfg.domain != null then "${cfg.hostName}.${cfg.domain}" else cfg.hostName;

  setupScript = ''
    failed=0
    # Waits up to 10 s for a network device to appear.
    wait_for_device() {
      i=0
      while [ ! -e "/sys/class/net/$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      [ -e "/sys/class/net/$1" ] || { echo "network-setup: device $1 did not appear" >&2; failed=1; return 1; }
    }
    ip link set lo up
  ''
  # Bridges first (a VLAN may sit on one), then VLANs (a bridge may hold one), then the
  # bridges' ports; each step leaves a device that already exists as it is.
  + concatStringsSep "" (lib.mapAttrsToList (name: b: ''
    [ -e /sys/class/net/${q name} ] || ip link add name ${q name} type bridge || failed=1
    ip link set dev ${q name} up
  '') cfg.bridges)
  + concatStringsSep "" (lib.mapAttrsToList (name: v: ''
    if wait_for_device ${q v.interface}; then
      ip link set dev ${q v.interface} up
      [ -e /sys/class/net/${q name} ] || ip link add link ${q v.interface} name ${q name} type vlan id ${toString v.id} || failed=1
      ip link set dev ${q name} up
    fi
  '') cfg.vlans)
  + concatStringsSep "" (lib.concatLists (lib.mapAttrsToList (name: b: map (m: ''
    if wait_for_device ${q m}; then ip link set dev ${q m} master ${q name} && ip link set dev ${q m} up || failed=1; fi
  '') b.interfaces) cfg.bridges))
  + concatStringsSep "" (map (i: ''
    if wait_for_device ${q i.name}; then
    ${lib.optionalString (i.mtu != null) "  ip link set dev ${q i.name} mtu ${toString i.mtu}\n"}  ip link set dev ${q i.name} up
    ${concatStringsSep "" (map (a: "  ip -4 addr replace ${q "${a.address}/${toString a.prefixLength}"} dev ${q i.name}\n") i.ipv4.addresses)}${concatStringsSep "" (map (a: "  ip -6 addr replace ${q "${a.address}/${toString a.prefixLength}"} dev ${q i.name}\n") i.ipv6.addresses)}fi
  '') staticInterfaces)
  + concatStringsSep "" (map (g: ''
    ${lib.optionalString (g.gw.interface != null) "wait_for_device ${q g.gw.interface} || true\n"}ip ${g.family} route replace default via ${q g.gw.address}${lib.optionalString (g.gw.interface != null) " dev ${q g.gw.interface}"}${lib.optionalString (g.gw.metric != null) " metric ${toString g.gw.metric}"} || failed=1
  '') gateways)
  + ''
    exit $failed
  '';
in
{
  options.networking = {
    hostName = mkOption {
      type = types.strMatching "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?|";
      default = "kiln";
      description = "The host's name (/etc/hostname): letters, digits and '-', at most 63.";
    };
    domain = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "example.org";
      description = "The host's domain; with it /etc/hosts names the host by its full name too, and resolv.conf searches it.";
    };
    fqdn = mkOption {
      type = types.str;
      default = fqdn;
      defaultText = "hostName.domain, or hostName without a domain";
      description = "The host's full name (read it, do not set it): tests and modules use it, as in NixOS.";
    };
    fqdnOrHostName = mkOption {
      type = types.str;
      default = fqdn;
      description = "The same as fqdn (NixOS keeps both names).";
    };
    search = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Domains host names are looked up in (resolv.conf's search).";
    };
    nameservers = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "9.9.9.9" "2620:fe::fe" ];
      description = "DNS servers (/etc/resolv.conf).";
    };
    hosts = mkOption {
      type = types.attrsOf (types.listOf types.str);
      default = { };
      example = { "192.168.1.10" = [ "server" "server.lan" ]; };
      description = "More lines of /etc/hosts: an address and the names it has.";
    };
    extraHosts = mkOption {
      type = types.lines;
      default = "";
      description = "Text added to /etc/hosts.";
    };
    useDHCP = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether every Ethernet card without static configuration gets its address by DHCP
        (systemd-networkd).
      '';
    };
    useNetworkd = mkOption {
      type = types.bool;
      default = false;
      description = "Whether systemd-networkd runs with the files of systemd.network (Kiln runs it for DHCP in any case; static addresses stay with network-setup.service).";
    };
    enableIPv6 = mkOption {
      type = types.bool;
      default = true;
      description = "Whether IPv6 is on (false sets the disable_ipv6 sysctls).";
    };
    interfaces = mkOption {
      type = types.attrsOf (types.submodule interfaceOptions);
      default = { };
      example = lib.literalExpression ''{ eth0.ipv4.addresses = [ { address = "192.168.1.2"; prefixLength = 24; } ]; }'';
      description = "Network interfaces' configuration.";
    };
    vlans = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          id = mkOption { type = types.ints.between 1 4094; description = "The VLAN's id."; };
          interface = mkOption { type = types.str; description = "The interface the VLAN's frames go out on."; };
        };
      });
      default = { };
      example = lib.literalExpression ''{ vlan10 = { id = 10; interface = "eth0"; }; }'';
      description = "VLAN interfaces to create, by name; give them addresses in networking.interfaces.";
    };
    bridges = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          interfaces = mkOption { type = types.listOf types.str; example = [ "eth0" "eth1" ]; description = "The bridge's ports."; };
          rstp = mkOption { type = types.bool; default = false; description = "Whether the bridge runs RSTP (needs mstpd, which Kiln does not set up)."; };
        };
      });
      default = { };
      example = lib.literalExpression ''{ br0.interfaces = [ "eth0" "eth1" ]; }'';
      description = "Bridges to create, by name, with their ports; give them addresses in networking.interfaces.";
    };
    defaultGateway = mkOption {
      type = types.nullOr gatewayType;
      default = null;
      example = "192.168.1.1";
      description = "The default IPv4 route's gateway: an address, or { address; interface; metric; }.";
    };
    defaultGateway6 = mkOption {
      type = types.nullOr gatewayType;
      default = null;
      description = "The default IPv6 route's gateway: an address, or { address; interface; metric; }.";
    };
    unmanagedInterfaces = mkOption {
      type = types.listOf types.str;
      default = map (i: i.name) unmanaged;
      readOnly = true;
      internal = true;
      description = "The interfaces configured here without DHCP, which systemd-networkd and NetworkManager leave alone.";
    };
  };

  config = lib.mkMerge [
    {
      environment.etc."hostname" = lib.mkIf (cfg.hostName != "") { text = cfg.hostName + "\n"; };
      environment.etc."hosts".text = ''
        127.0.0.1 localhost
        ::1 localhost ip6-localhost ip6-loopback
      '' + lib.optionalString (cfg.hostName != "") "127.0.1.1 ${lib.optionalString (cfg.domain != null) "${fqdn} "}${cfg.hostName}\n"
        + concatStringsSep "" (lib.mapAttrsToList (addr: names: lib.optionalString (names != [ ]) "${addr} ${concatStringsSep " " names}\n") cfg.hosts)
        + cfg.extraHosts;
      environment.etc."resolv.conf" = lib.mkIf (!config.services.resolved.enable && (cfg.nameservers != [ ] || cfg.search != [ ] || cfg.domain != null)) {
        text = lib.optionalString (cfg.domain != null || cfg.search != [ ])
            "search ${concatStringsSep " " (lib.optional (cfg.domain != null) cfg.domain ++ cfg.search)}\n"
          + concatStringsSep "" (map (n: "nameserver ${n}\n") cfg.nameservers);
      };
      boot.kernel.sysctl = lib.mkIf (!cfg.enableIPv6) {
        "net.ipv6.conf.all.disable_ipv6" = 1;
        "net.ipv6.conf.default.disable_ipv6" = 1;
      };
      assertions = map ({ option, name }: {
        assertion = builtins.match "[A-Za-z0-9_.:@-]{1,15}" name != null;
        message = "${option}.\"${name}\": not a valid interface name.";
      }) (map (i: { option = "networking.interfaces"; inherit (i) name; }) interfaces
          ++ map (name: { option = "networking.vlans"; inherit name; }) (attrNames cfg.vlans)
          ++ map (name: { option = "networking.bridges"; inherit name; }) (attrNames cfg.bridges))
      ++ lib.mapAttrsToList (name: b: {
        assertion = !b.rstp;
        message = "networking.bridges.\"${name}\".rstp: Kiln does not run mstpd; leave it false (the kernel's bridge without STP).";
      }) cfg.bridges;
    }

    (lib.mkIf needsSetup {
      environment.systemPackages = [ pkgs.iproute2 ];
      systemd.services.network-setup = {
        description = "Networking Setup";
        wantedBy = [ "network.target" "multi-user.target" ];
        after = [ "network-pre.target" "systemd-udevd.service" "systemd-sysctl.service" ];
        before = [ "network.target" "shutdown.target" ];
        wants = [ "network.target" ];
        conflicts = [ "shutdown.target" ];
        unitConfig.DefaultDependencies = false;
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
        path = [ pkgs.iproute2 ];
        script = setupScript;
      };
    })

    (lib.mkIf cfg.useNetworkd { systemd.network.enable = true; })

    (lib.mkIf useNetworkd {
      services.resolved.enable = lib.mkDefault (cfg.nameservers == [ ]);
      # networkd runs as this user (Debian's sysusers.d/systemd-network.conf).
      users.users.systemd-network = { isSystemUser = true; group = "systemd-network"; description = "systemd Network Management"; };
      users.groups.systemd-network = { };
      environment.etc = lib.listToAttrs (
        map (i: lib.nameValuePair "systemd/network/10-kiln-${i.name}.network" {
          text = "# Configured by network-setup.service (${if i ? port then "a port of networking.bridges" else "networking.interfaces.${i.name}"}).\n[Match]\nName=${i.name}\n\n[Link]\nUnmanaged=yes\n";
        }) unmanaged
        ++ map (i: lib.nameValuePair "systemd/network/40-kiln-${i.name}.network" {
          text = "[Match]\nName=${i.name}\n\n[Network]\nDHCP=yes\n";
        }) dhcpInterfaces
        ++ lib.optional cfg.useDHCP (lib.nameValuePair "systemd/network/99-kiln-dhcp.network" {
          text = "# networking.useDHCP: every other Ethernet card.\n[Match]\nType=ether\nName=en* eth*\n\n[Network]\nDHCP=yes\n";
        })
        ++ [
          (lib.nameValuePair "systemd/system/multi-user.target.wants/systemd-networkd.service" { source = "/lib/systemd/system/systemd-networkd.service"; })
          (lib.nameValuePair "systemd/system/sockets.target.wants/systemd-networkd.socket" { source = "/lib/systemd/system/systemd-networkd.socket"; })
        ]);
    })
  ];
}
