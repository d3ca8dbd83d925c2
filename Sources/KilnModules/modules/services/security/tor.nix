# services.tor (NixOS: nixos/modules/services/security/tor.nix), with Debian's tor. torrc is
# generated from settings as NixOS generates it (booleans 1/0, a list repeats its key, ports
# as [ADDR:]PORT FLAGS, policies joined by commas, onion services as HiddenServiceDir blocks)
# and written to /etc/tor/torrc, in the place of Debian's; tor runs as tor, checked with
# --verify-config before each start. NixOS confines it in an empty RootDirectory; here it
# gets ProtectSystem=strict and its state and runtime directories, which keeps the paths.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep filter isAttrs isBool isInt isList elem;
  cfg = config.services.tor;
  stateDir = "/var/lib/tor";
  runDir = "/run/tor";
  sh = lib.escapeShellArg;

  # A port's flags, as NixOS's port submodules compute them from their Boolean options.
  knownFlags = [
    "CacheDNS" "CacheIPv4DNS" "CacheIPv6DNS" "GroupWritable" "IPv6Traffic" "NoDNSRequest" "NoIPv4Traffic"
    "NoOnionTraffic" "OnionTrafficOnly" "PreferIPv6" "PreferIPv6Automap" "PreferSOCKSNoAuth" "UseDNSCache"
    "UseIPv4Cache" "UseIPv6Cache" "WorldWritable" "RelaxDirModeCheck"
    "IsolateClientAddr" "IsolateClientProtocol" "IsolateDestAddr" "IsolateDestPort" "IsolateSOCKSAuth"
    "KeepAliveIsolateSOCKSAuth" "IPv4Only" "IPv6Only" "NoAdvertise" "NoListen"
  ];
  flagsOf = v: filter (f: (v.${f} or false) == true) knownFlags ++ (v.flags or [ ])
    ++ lib.optional ((v.SessionGroup or null) != null) "SessionGroup=${toString v.SessionGroup}";
  flagText = v: lib.optionalString (flagsOf v != [ ]) (" " + concatStringsSep " " (flagsOf v));

  valueText = k: v:
    if isBool v then (if v then "1" else "0")
    else if isAttrs v && (v.unix or null) != null then "unix:${v.unix}${flagText v}"
    else if isAttrs v && (v.port or null) != null then
      lib.optionalString ((v.addr or null) != null) "${v.addr}:" + toString v.port + flagText v
    else if k == "ServerTransportPlugin" then
      lib.optionalString (v.transports != [ ]) "${concatStringsSep "," v.transports} exec ${v.exec}"
    else toString v;
  commaJoined = [ "AutomapHostsSuffixes" "DirPolicy" "ExitPolicy" "SocksPolicy" ];
  torrcLines = settings: lib.concatMap (k:
    let v = settings.${k}; in
    if v == null || v == "" then [ ]
    else if isList v then
      (if elem k commaJoined then lib.optional (v != [ ]) "${k} ${concatStringsSep "," v}"
       else map (x: "${k} ${valueText k x}") (filter (x: x != null) v))
    else [ "${k} ${valueText k v}" ]) (attrNames settings);

  onionText = name: o: concatStringsSep "\n" ([ "HiddenServiceDir ${o.path}" ] ++ torrcLines o.settings);
  torrc = concatStringsSep "\n" (torrcLines cfg.settings
    ++ lib.mapAttrsToList onionText cfg.relay.onionServices) + "\n";

  portType = types.either types.port (types.enum [ "auto" ]);
  portsOption = description: mkOption {
    type = types.either portType (types.listOf (types.either portType types.attrs));
    default = [ ];
    apply = v: if isList v then v else [ v ];
    inherit description;
  };
  targetText = t: if t == null then "" else if (t.unix or null) != null then "unix:${t.unix}"
    else lib.optionalString ((t.addr or null) != null) "${t.addr}:" + toString t.port;

  onionServiceOptions = { name, config, ... }: {
    options = {
      path = mkOption { type = types.str; description = "The onion service's directory (its keys and hostname)."; };
      secretKey = mkOption { type = types.nullOr types.str; default = null; example = "/run/keys/tor/onion/ssh/hs_ed25519_secret_key"; description = "A file on the machine holding the service's ed25519 secret key, copied in at start (null: tor makes one)."; };
      authorizedClients = mkOption { type = types.listOf types.str; default = [ ]; example = [ "descriptor:x25519:XXXX" ]; description = "The public keys of the clients allowed in (v3 client authorization)."; };
      map = mkOption {
        type = types.listOf (types.either types.port types.attrs);
        apply = map (v: if isInt v then { port = v; target = null; } else { target = null; } // v);
        example = [ 22 { port = 80; target = { addr = "127.0.0.1"; port = 8080; }; } ];
        description = "The service's ports (HiddenServicePort): a port, or { port; target = { addr; port; } or { unix; }; }.";
      };
      version = mkOption { type = types.nullOr (types.enum [ 2 3 ]); default = null; description = "HiddenServiceVersion."; };
      settings = mkOption {
        type = types.submodule { freeformType = types.attrsOf types.anything; };
        default = { };
        description = "More settings of the onion service (torrc's hidden service options).";
      };
    };
    config = {
      path = lib.mkDefault ((if config.secretKey == null then stateDir else runDir) + "/onion/${name}");
      settings.HiddenServiceVersion = config.version;
      settings.HiddenServicePort = map (p: toString p.port + lib.optionalString (p.target != null) " ${targetText p.target}") config.map;
    };
  };

  prestart = "#!/bin/sh\nset -eu\n" + lib.concatStrings (lib.mapAttrsToList (name: o:
    lib.optionalString (o.authorizedClients != [ ]) ''
      rm -rf ${sh o.path}/authorized_clients
      install -d -o tor -g tor -m 0700 ${sh o.path} ${sh o.path}/authorized_clients
    '' + lib.concatStrings (lib.imap0 (i: k: ''
      echo ${sh k} | install -o tor -g tor -m 0400 /dev/stdin ${sh o.path}/authorized_clients/${toString i}.auth
    '') o.authorizedClients)
    + lib.optionalString (o.secretKey != null) ''
      install -d -o tor -g tor -m 0700 ${sh o.path}
      install -o tor -g tor -m 0400 ${sh o.secretKey} ${sh o.path}/hs_ed25519_secret_key
    '') cfg.relay.onionServices
    ++ lib.mapAttrsToList (name: o: lib.concatStrings (lib.imap0 (i: key: let host = lib.removeSuffix ".onion" name; in ''
      printf '%s:' ${sh host} | cat - ${sh key} | install -o tor -g tor -m 0700 /dev/stdin ${runDir}/ClientOnionAuthDir/${sh host}.${toString i}.auth_private
    '') o.clientAuthorizations)) cfg.client.onionServices);
  needsPrestart = lib.any (o: o.authorizedClients != [ ] || o.secretKey != null) (lib.attrValues cfg.relay.onionServices)
    || lib.any (o: o.clientAuthorizations != [ ]) (lib.attrValues cfg.client.onionServices);

  allPorts = lib.flatten [ cfg.settings.ORPort cfg.settings.DirPort cfg.settings.DNSPort cfg.settings.SOCKSPort cfg.settings.TransPort ];
  portNumber = p: let n = if isAttrs p then (p.port or null) else p; in if isInt n then n else 0;
  bindsPrivilegedPort = lib.any (p: let n = portNumber p; in 0 < n && n < 1024) allPorts;
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "services" "tor" "hiddenServices" ] [ "services" "tor" "relay" "onionServices" ])
    (lib.mkRenamedOptionModule [ "services" "tor" "controlPort" ] [ "services" "tor" "settings" "ControlPort" ])
    (lib.mkRenamedOptionModule [ "services" "tor" "relay" "nickname" ] [ "services" "tor" "settings" "Nickname" ])
    (lib.mkRenamedOptionModule [ "services" "tor" "relay" "contactInfo" ] [ "services" "tor" "settings" "ContactInfo" ])
    (lib.mkRenamedOptionModule [ "services" "tor" "relay" "port" ] [ "services" "tor" "settings" "ORPort" ])
  ];

  options.services.tor = {
    enable = lib.mkEnableOption "the Tor daemon (without relay, exit, bridge or client connectivity unless enabled)";
    openFirewall = lib.mkEnableOption "opening the relay port(s) (ORPort, DirPort) in the firewall";
    package = mkOption { type = types.package; default = pkgs.tor; defaultText = lib.literalExpression "pkgs.tor"; description = "The Tor package."; };
    enableGeoIP = mkOption { type = types.bool; default = true; description = "Whether Tor uses the GeoIP databases (Debian's tor-geoipdb)."; };
    controlSocket.enable = lib.mkEnableOption "the control socket, ${runDir}/control";
    client = {
      enable = lib.mkEnableOption "the routing of applications' connections (the SOCKS port)";
      transparentProxy.enable = lib.mkEnableOption "the transparent proxy (TransPort 127.0.0.1:9040)";
      dns.enable = lib.mkEnableOption "the DNS resolver (DNSPort 127.0.0.1:9053)";
      socksListenAddress = mkOption {
        type = types.either types.port types.attrs;
        default = { addr = "127.0.0.1"; port = 9050; IsolateDestAddr = true; };
        example = { addr = "192.168.0.1"; port = 9090; IsolateDestAddr = true; };
        description = "Where SOCKS-speaking applications connect.";
      };
      onionServices = mkOption {
        type = types.attrsOf (types.submodule {
          options.clientAuthorizations = mkOption { type = types.listOf types.str; default = [ ]; description = "Files holding this client's private keys for the onion service (descriptor:x25519:KEY)."; };
        });
        default = { };
        description = "Onion services this client authenticates to, by address.";
      };
    };
    relay = {
      enable = lib.mkEnableOption "relaying Tor traffic for others (needs relay.role and settings.ORPort)";
      # NixOS leaves it without a default; null here, refused by an assertion when relaying.
      role = mkOption { type = types.nullOr (types.enum [ "exit" "relay" "bridge" "private-bridge" ]); default = null; description = "The role in the Tor network (needed with relay.enable)."; };
      onionServices = mkOption { type = types.attrsOf (types.submodule onionServiceOptions); default = { }; description = "Onion services this machine offers, by name."; };
    };
    settings = mkOption {
      default = { };
      description = "torrc's settings (tor(1)); a list repeats its key, a port is N, \"auto\" or { addr; port; FLAG = true; }.";
      type = types.submodule {
        freeformType = types.attrsOf types.anything;
        options = {
          DataDirectory = mkOption { type = types.str; default = stateDir; description = "Where Tor keeps its state."; };
          ExitPolicy = mkOption { type = types.listOf types.str; default = [ "reject *:*" ]; description = "The exit policy, joined with commas."; };
          AutomapHostsSuffixes = mkOption { type = types.listOf types.str; default = [ ".onion" ".exit" ]; description = "Suffixes mapped to virtual addresses."; };
          BridgeRelay = mkOption { type = types.bool; default = false; description = "Whether this relay is a bridge."; };
          ShutdownWaitLength = mkOption { type = types.int; default = 30; description = "Seconds a relay waits for its connections at shutdown."; };
          PublishServerDescriptor = mkOption { type = types.nullOr (types.oneOf [ types.bool types.int types.str ]); default = null; description = "Whether and where the relay's descriptor is published."; };
          Nickname = mkOption { type = types.nullOr types.str; default = null; description = "The relay's nickname."; };
          ContactInfo = mkOption { type = types.nullOr types.str; default = null; description = "How the relay's operator is reached."; };
          SOCKSPort = mkOption { type = types.listOf (types.either types.port types.attrs); default = [ ]; description = "SOCKS listeners."; };
          ORPort = portsOption "Relay listeners.";
          DirPort = portsOption "Directory listeners.";
          ControlPort = portsOption "Control listeners.";
          DNSPort = portsOption "DNS listeners.";
          TransPort = portsOption "Transparent proxy listeners.";
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = cfg.relay.enable -> cfg.relay.role != null;
      message = "services.tor.relay.enable needs services.tor.relay.role (exit, relay, bridge or private-bridge).";
    } {
      assertion = cfg.relay.enable -> cfg.settings.ORPort != [ ];
      message = "services.tor.relay.enable needs services.tor.settings.ORPort.";
    } ];

    services.tor.settings = lib.mkMerge [
      (lib.mkIf cfg.enableGeoIP { GeoIPFile = "/usr/share/tor/geoip"; GeoIPv6File = "/usr/share/tor/geoip6"; })
      (lib.mkIf cfg.controlSocket.enable { ControlPort = [ { unix = runDir + "/control"; GroupWritable = true; RelaxDirModeCheck = true; } ]; })
      (lib.mkIf cfg.relay.enable (
        lib.optionalAttrs (cfg.relay.role != "exit") { ExitPolicy = lib.mkForce [ "reject *:*" ]; }
        // lib.optionalAttrs (elem cfg.relay.role [ "bridge" "private-bridge" ]) {
          BridgeRelay = true;
          ExtORPort = lib.mkDefault { port = "auto"; };
          ServerTransportPlugin = lib.mkDefault { transports = [ "obfs4" ]; exec = "/usr/bin/obfs4proxy managed"; };
        } // lib.optionalAttrs (cfg.relay.role == "private-bridge") {
          ExtraInfoStatistics = false;
          PublishServerDescriptor = false;
        }))
      # Left-over ORPort/DirPort settings must not make the machine a relay.
      (lib.mkIf (!cfg.relay.enable) { DirPort = lib.mkForce [ ]; ORPort = lib.mkForce [ ]; PublishServerDescriptor = lib.mkForce false; })
      (lib.mkIf (!cfg.client.enable) { SOCKSPort = lib.mkForce [ 0 ]; })
      (lib.mkIf cfg.client.enable ({ SOCKSPort = [ cfg.client.socksListenAddress ]; }
        // lib.optionalAttrs cfg.client.transparentProxy.enable { TransPort = [ { addr = "127.0.0.1"; port = 9040; } ]; }
        // lib.optionalAttrs cfg.client.dns.enable { DNSPort = [ { addr = "127.0.0.1"; port = 9053; } ]; AutomapHostsOnResolve = true; }
        // lib.optionalAttrs (lib.any (o: o.clientAuthorizations != [ ]) (lib.attrValues cfg.client.onionServices)) {
          ClientOnionAuthDir = runDir + "/ClientOnionAuthDir";
        }))
    ];

    environment.systemPackages = [ cfg.package ] ++ lib.optional cfg.enableGeoIP pkgs.tor-geoipdb
      ++ lib.optional (cfg.relay.enable && elem cfg.relay.role [ "bridge" "private-bridge" ]) pkgs.obfs4proxy;
    environment.etc."tor/torrc".text = torrc;
    # Debian's generator would start its own tor@default.service (as debian-tor, from
    # Debian's torrc) beside this one; /etc's /dev/null masks it, as postfix masks its own.
    environment.etc."systemd/system-generators/tor-generator".source = "/dev/null";
    environment.etc."tor/prestart" = lib.mkIf needsPrestart { text = prestart; mode = "0755"; };

    users.users.tor = { isSystemUser = true; group = "tor"; home = stateDir; description = "Tor Daemon User"; };
    users.groups.tor = { };

    networking.firewall = lib.mkIf cfg.openFirewall {
      allowedTCPPorts = lib.concatMap (p: let n = portNumber p; in lib.optional (n > 0) n) (lib.flatten [ cfg.settings.ORPort cfg.settings.DirPort ]);
    };

    systemd.services.tor = {
      description = "Tor Daemon";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      restartTriggers = [ torrc prestart ];
      serviceConfig = {
        Type = "simple";
        User = "tor";
        Group = "tor";
        ExecStartPre = [ "/usr/bin/tor -f /etc/tor/torrc --verify-config" ] ++ lib.optional needsPrestart "+/etc/tor/prestart";
        ExecStart = "/usr/bin/tor -f /etc/tor/torrc";
        ExecReload = "/bin/kill -HUP $MAINPID";
        KillSignal = "SIGINT";
        TimeoutSec = cfg.settings.ShutdownWaitLength + 30;
        Restart = "on-failure";
        LimitNOFILE = 32768;
        RuntimeDirectory = [ "tor" "tor/ClientOnionAuthDir" ];
        RuntimeDirectoryMode = "0710";
        StateDirectory = [ "tor" "tor/onion" ]
          ++ lib.concatLists (lib.mapAttrsToList (name: o: lib.optional (o.secretKey == null) "tor/onion/${name}") cfg.relay.onionServices);
        StateDirectoryMode = "0700";
        UMask = "0066";
        AmbientCapabilities = [ "" ] ++ lib.optional bindsPrivilegedPort "CAP_NET_BIND_SERVICE";
        CapabilityBoundingSet = [ "" ] ++ lib.optional bindsPrivilegedPort "CAP_NET_BIND_SERVICE";
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        NoNewPrivileges = true;
        PrivateDevices = true;
        PrivateMounts = true;
        PrivateTmp = true;
        ProtectClock = true;
        ProtectControlGroups = true;
        ProtectHome = true;
        ProtectHostname = true;
        ProtectKernelLogs = true;
        ProtectKernelModules = true;
        ProtectKernelTunables = true;
        ProtectSystem = "strict";
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        SystemCallArchitectures = "native";
      };
    };
  };
}
