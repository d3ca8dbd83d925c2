# networking.nat: network address translation with nftables (NixOS:
# nixos/modules/services/networking/nat.nix for the options, nat-nftables.nix for the rules,
# as NixOS does with networking.nftables.enable). Connections from the internal interfaces or
# addresses leave through the external interface masqueraded (or SNATed to externalIP);
# forwardPorts DNAT a port of the external interface to a host behind it, and from the
# loopbackIPs (hosts behind the NAT and this machine itself) too. The rules are
# /etc/kiln/nat.nft (table ip kiln-nat), loaded by nat.service; IPv4 forwarding is turned on.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) concatStringsSep filter length map elemAt match;
  cfg = config.networking.nat;

  set = list: concatStringsSep ", " list;
  quoted = map (i: ''"${i}"'');
  # "8000:8010" (NixOS's port range form) is nftables' 8000-8010.
  portRange = p: builtins.replaceStrings [ ":" ] [ "-" ] (toString p);
  target = if cfg.externalIP == null then "masquerade" else "snat to ${cfg.externalIP}";
  toExternal = lib.optionalString (cfg.externalInterface != null) ''oifname "${cfg.externalInterface}"'';

  # "10.0.0.2:80" -> { ip = "10.0.0.2"; ports = "80"; }
  destinationOf = fwd:
    let m = match "([0-9.]+):([0-9]+(-[0-9]+)?)" fwd.destination;
    in if m == null then throw "networking.nat.forwardPorts: destination '${fwd.destination}' is not IPv4-ADDRESS:PORT (or :FROM-TO)"
       else { ip = elemAt m 0; ports = elemAt m 1; };

  # nftables cannot map to a port and a port range in one map: one rule each.
  single = filter (f: length (lib.splitString "-" f.destination) == 1) cfg.forwardPorts;
  ranged = filter (f: length (lib.splitString "-" f.destination) > 1) cfg.forwardPorts;
  dnatMap = fwds: set (map (f: let d = destinationOf f; in "${f.proto} . ${portRange f.sourcePort} : ${d.ip} . ${d.ports}") fwds);
  loopMap = fwds: set (lib.concatMap (f: let d = destinationOf f; in
    map (ip: "${ip} . ${f.proto} . ${portRange f.sourcePort} : ${d.ip} . ${d.ports}") f.loopbackIPs) fwds);
  loopSnat = set (map (f: let d = destinationOf f; in "${d.ip} . ${f.proto} . ${d.ports}") cfg.forwardPorts);

  nonEmpty = s: r: lib.optional (s != "") r;
  forwardRules = lib.concatMap (fwds:
    nonEmpty (dnatMap fwds) ''iifname "${cfg.externalInterface}" dnat to meta l4proto . th dport map { ${dnatMap fwds} } comment "port forward"''
  ) [ single ranged ];
  loopRules = lib.concatMap (fwds:
    nonEmpty (loopMap fwds) "dnat to ip daddr . meta l4proto . th dport map { ${loopMap fwds} }"
  ) [ single ranged ];

  rules = ''
    table ip kiln-nat {
      chain pre {
        type nat hook prerouting priority dstnat;
        ${concatStringsSep "\n    " (forwardRules ++ map (r: r + " comment \"port forward from hosts behind the NAT\"") loopRules
          ++ lib.optional (cfg.dmzHost != null) ''iifname "${cfg.externalInterface}" dnat to ${cfg.dmzHost} comment "dmz"'')}
      }
      chain post {
        type nat hook postrouting priority srcnat;
        ${concatStringsSep "\n    " (
          lib.optional (cfg.internalInterfaces != [ ]) ''iifname { ${set (quoted cfg.internalInterfaces)} } ${toExternal} ${target} comment "from internal interfaces"''
          ++ lib.optional (cfg.internalIPs != [ ]) ''ip saddr { ${set cfg.internalIPs} } ${toExternal} ${target} comment "from internal IPs"''
          ++ lib.optional (cfg.forwardPorts != [ ] && cfg.externalInterface != null)
               ''iifname != "${cfg.externalInterface}" ip daddr . meta l4proto . th dport { ${loopSnat} } masquerade comment "port forward loopback"'')}
      }
      chain out {
        type nat hook output priority mangle;
        ${concatStringsSep "\n    " (map (r: r + " comment \"port forward from this machine\"") loopRules)}
      }
    }
  '';

  forwardPort = types.submodule {
    options = {
      sourcePort = mkOption {
        type = types.either types.port (types.strMatching "[0-9]+:[0-9]+");
        example = 8080;
        description = "The port (or \"FROM:TO\" range) of the external interface that is forwarded.";
      };
      proto = mkOption {
        type = types.enum [ "tcp" "udp" ];
        default = "tcp";
        description = "The protocol forwarded.";
      };
      destination = mkOption {
        type = types.str;
        example = "10.0.0.1:80";
        description = "Where it goes: IPv4-ADDRESS:PORT (or :FROM-TO for a range).";
      };
      loopbackIPs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "55.1.2.3" ];
        description = "Public addresses of this machine at which hosts behind the NAT, and the machine itself, reach the forwarded port too.";
      };
    };
  };
in
{
  options.networking.nat = {
    enable = lib.mkEnableOption "network address translation for the internal interfaces and addresses";
    enableIPv6 = mkOption {
      type = types.bool;
      default = false;
      description = "IPv6 NAT (not offered: Kiln's NAT is IPv4; setting it fails with a reason).";
    };
    internalInterfaces = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "eth0" ];
      description = "Interfaces whose traffic is translated as it leaves through the external interface.";
    };
    internalIPs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "192.168.1.0/24" ];
      description = "Source addresses or networks whose traffic is translated.";
    };
    externalInterface = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "eth1";
      description = "The interface to the outside (null: any).";
    };
    externalIP = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "203.0.113.123";
      description = "The address translated connections leave with (null: the external interface's own: masquerade).";
    };
    forwardPorts = mkOption {
      type = types.listOf forwardPort;
      default = [ ];
      example = [ { sourcePort = 8080; destination = "10.0.0.1:80"; proto = "tcp"; } ];
      description = "Ports of the external interface forwarded to hosts behind the NAT.";
    };
    dmzHost = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "10.0.0.1";
      description = "A host that gets every connection to the external interface no forwarded port takes.";
    };
    extraCommands = mkOption {
      type = types.lines;
      default = "";
      description = "iptables commands (NixOS's iptables NAT); refused, as NixOS's nftables NAT refuses them: write nftables rules instead.";
    };
    extraStopCommands = mkOption {
      type = types.lines;
      default = "";
      description = "iptables commands run when NAT stops; refused, as extraCommands.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      { assertion = cfg.extraCommands == "" && cfg.extraStopCommands == "";
        message = "networking.nat.extraCommands and extraStopCommands hold iptables commands; Kiln's NAT is nftables (table ip kiln-nat), as NixOS's is with networking.nftables.enable, which refuses them too."; }
      { assertion = !cfg.enableIPv6;
        message = "networking.nat.enableIPv6 is not offered: Kiln's NAT translates IPv4 only."; }
      { assertion = (cfg.forwardPorts == [ ] && cfg.dmzHost == null) || cfg.externalInterface != null;
        message = "networking.nat.forwardPorts and dmzHost need networking.nat.externalInterface: the port forwards are for connections that arrive on it."; }
    ];
    environment.systemPackages = [ pkgs.nftables ];
    environment.etc."kiln/nat.nft".text = rules;
    boot.kernelModules = [ "nf_tables" "nft_ct" "nft_chain_nat" "nft_nat" "nft_masq" "nf_nat" ];
    boot.kernel.sysctl."net.ipv4.conf.all.forwarding" = lib.mkOverride 99 true;
    boot.kernel.sysctl."net.ipv4.conf.default.forwarding" = lib.mkOverride 99 true;
    systemd.services.nat = {
      description = "Network Address Translation";
      wantedBy = [ "multi-user.target" ];
      before = [ "network-pre.target" ];
      wants = [ "network-pre.target" ];
      after = [ "systemd-modules-load.service" "firewall.service" ];
      unitConfig.DefaultDependencies = false;
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        # Replaced whole on every start, so a reload or restart never doubles the rules.
        ExecStart = [ "-/usr/sbin/nft delete table ip kiln-nat" "/usr/sbin/nft -f /etc/kiln/nat.nft" ];
        ExecStop = "/usr/sbin/nft delete table ip kiln-nat";
      };
    };
  };
}
