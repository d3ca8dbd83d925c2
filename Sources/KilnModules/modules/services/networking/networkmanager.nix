# networking.networkmanager (NixOS: nixos/modules/services/networking/networkmanager.nix),
# with Debian's network-manager. NetworkManager takes every interface the configuration
# does not set up itself: networking.useDHCP is off (systemd-networkd stays out), and the
# interfaces networking.interfaces configures without DHCP are unmanaged, as is every name
# in `unmanaged`. Users of the networkmanager group may change any connection (a polkit rule,
# as NixOS writes); Debian's own rule lets sudo and netdev change system connections.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.networking.networkmanager;

  unmanaged = lib.unique (cfg.unmanaged ++ map (n: "interface-name:${n}") config.networking.unmanagedInterfaces);

  iniValue = v: if builtins.isBool v then (if v then "true" else "false")
    else if builtins.isList v then lib.concatMapStringsSep ";" toString v else toString v;
  toINI = lib.generators.toINI { mkKeyValue = k: v: "${k}=${iniValue v}"; };

  settings = lib.recursiveUpdate {
    main = {
      plugins = "keyfile";
      dns = cfg.dns;
    };
    keyfile = lib.optionalAttrs (unmanaged != [ ]) { unmanaged-devices = unmanaged; };
    logging.level = cfg.logLevel;
    connection = lib.optionalAttrs (cfg.wifi.powersave != null) {
      "wifi.powersave" = if cfg.wifi.powersave then 3 else 2;
    };
    device = { "wifi.scan-rand-mac-address" = cfg.wifi.scanRandMacAddress; "wifi.backend" = cfg.wifi.backend; };
    "connection-mac-randomization" = {
      "ethernet.cloned-mac-address" = cfg.ethernet.macAddress;
      "wifi.cloned-mac-address" = cfg.wifi.macAddress;
    };
  } cfg.settings;

  dispatcherDirs = { basic = ""; pre-up = "pre-up.d/"; pre-down = "pre-down.d/"; };
in
{
  options.networking.networkmanager = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether NetworkManager configures the network: every interface the configuration
        does not set up itself. Members of the networkmanager group may change connections.
      '';
    };
    plugins = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "NetworkManager's VPN plugins (Debian's network-manager-openvpn, -vpnc, ...: pkgs.networkmanager-openvpn & co.).";
    };
    unmanaged = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Interfaces NetworkManager leaves alone: names, or NetworkManager.conf(5) device specs (mac:..., interface-name:...).";
    };
    dns = mkOption {
      type = types.enum [ "default" "dnsmasq" "systemd-resolved" "none" ];
      default = if config.services.resolved.enable then "systemd-resolved" else "default";
      description = "How NetworkManager hands out DNS: writing /etc/resolv.conf (default), through dnsmasq, to systemd-resolved, or not at all.";
    };
    logLevel = mkOption {
      type = types.enum [ "OFF" "ERR" "WARN" "INFO" "DEBUG" "TRACE" ];
      default = "WARN";
      description = "NetworkManager's log level.";
    };
    wifi = {
      backend = mkOption { type = types.enum [ "wpa_supplicant" "iwd" ]; default = "wpa_supplicant"; description = "The Wi-Fi backend."; };
      powersave = mkOption { type = types.nullOr types.bool; default = null; description = "Wi-Fi power saving (null: the driver's choice)."; };
      macAddress = mkOption { type = types.str; default = "preserve"; description = "The MAC address Wi-Fi connections use: permanent, preserve, random, stable, or an address."; };
      scanRandMacAddress = mkOption { type = types.bool; default = true; description = "Whether scans use a random MAC address."; };
    };
    ethernet.macAddress = mkOption { type = types.str; default = "preserve"; description = "The MAC address Ethernet connections use: permanent, preserve, random, stable, or an address."; };
    settings = mkOption {
      type = types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
      default = { };
      example = { main.no-auto-default = "*"; };
      description = "More NetworkManager.conf(5) settings, by section; they win over Kiln's.";
    };
    dispatcherScripts = mkOption {
      type = types.listOf (types.submodule {
        options = {
          source = mkOption { type = types.str; description = "The script's text (run with the interface and the action)."; };
          type = mkOption { type = types.enum (builtins.attrNames dispatcherDirs); default = "basic"; description = "When it runs: on every event (basic), before an interface comes up, or before it goes down."; };
        };
      });
      default = [ ];
      description = "Scripts NetworkManager's dispatcher runs on network events.";
    };
    ensureProfiles.profiles = mkOption {
      type = types.attrsOf (types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str ])));
      default = { };
      example = { home-wifi = { connection = { id = "home-wifi"; type = "wifi"; }; wifi.ssid = "Home"; wifi-security = { key-mgmt = "wpa-psk"; psk = "secret"; }; }; };
      description = "Connection profiles, as NetworkManager's keyfiles (sections of settings), written to /etc/NetworkManager/system-connections.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = !(config.networking.wireless.enable or false);
      message = "networking.networkmanager.enable and networking.wireless.enable both manage Wi-Fi: set one.";
    } ];

    # NetworkManager's, not systemd-networkd's (NixOS turns its own DHCP off the same way).
    networking.useDHCP = false;

    environment.systemPackages = [ pkgs.network-manager ]
      ++ lib.optional (cfg.wifi.backend == "wpa_supplicant") pkgs.wpasupplicant
      ++ lib.optional (cfg.wifi.backend == "iwd") pkgs.iwd
      ++ lib.optional (cfg.dns == "dnsmasq") pkgs.dnsmasq-base
      ++ cfg.plugins;
    systemd.packages = [ pkgs.network-manager ];
    systemd.services.NetworkManager = { overrideStrategy = "asDropin"; wantedBy = [ "multi-user.target" ]; };

    users.groups.networkmanager = { };
    # The networkmanager group's rights are a polkit rule (below).
    security.polkit.enable = true;

    environment.etc = {
      "NetworkManager/NetworkManager.conf".text = "# Generated by Kiln from networking.networkmanager.\n"
        + toINI (lib.filterAttrs (_: section: section != { }) settings);
      # What `systemctl enable NetworkManager` links besides the unit (its Also= and Alias=).
      "systemd/system/dbus-org.freedesktop.nm-dispatcher.service".source = "/lib/systemd/system/NetworkManager-dispatcher.service";
      "systemd/system/network-online.target.wants/NetworkManager-wait-online.service".source = "/lib/systemd/system/NetworkManager-wait-online.service";
      "polkit-1/rules.d/10-kiln-networkmanager.rules".text = ''
        // networking.networkmanager: the networkmanager group changes the network.
        polkit.addRule(function(action, subject) {
          if (subject.isInGroup("networkmanager") &&
              (action.id.indexOf("org.freedesktop.NetworkManager.") == 0 ||
               action.id.indexOf("org.freedesktop.ModemManager") == 0)) {
            return polkit.Result.YES;
          }
        });
      '';
    }
    // lib.listToAttrs (lib.imap1 (i: s: lib.nameValuePair
      "NetworkManager/dispatcher.d/${dispatcherDirs.${s.type}}03userscript${lib.fixedWidthNumber 4 i}" { text = s.source; mode = "0755"; })
      cfg.dispatcherScripts)
    // lib.mapAttrs' (name: p: lib.nameValuePair "NetworkManager/system-connections/${name}.nmconnection" {
      # NetworkManager reads only keyfiles that root alone can read.
      text = toINI p; mode = "0600";
    }) cfg.ensureProfiles.profiles;
  };
}
