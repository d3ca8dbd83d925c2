# services.openvpn (NixOS: nixos/modules/services/networking/openvpn.nix): each entry of
# `servers` is one OpenVPN instance, server or client, run as openvpn-<name>.service from the
# configuration text given, as NixOS runs it. NixOS puts the file and the up/down scripts in
# the store; Kiln writes them under /etc/openvpn/nixos/, beside Debian's own client/ and
# server/ directories, whose openvpn@ units stay disabled. update-resolv-conf is Debian's
# script at /etc/openvpn/update-resolv-conf, which hands the pushed DNS servers to resolvconf.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.openvpn;
  dir = name: "/etc/openvpn/nixos/${name}";
  # updateResolvConf runs from the up and down scripts, so it makes both.
  hasUp = s: s.up != "" || s.updateResolvConf;
  hasDown = s: s.down != "" || s.updateResolvConf;

  # What NixOS's up script does first: the pushed domain and name server, for the commands.
  foreignOptions = ''
    for var in ''${!foreign_option_*}; do
      x=(''${!var})
      if [ "''${x[0]}" = dhcp-option ]; then
        if [ "''${x[1]}" = DOMAIN ]; then domain="''${x[2]}"
        elif [ "''${x[1]}" = DNS ]; then nameserver="''${x[2]}"
        fi
      fi
    done
  '';
  resolvConf = s: lib.optionalString s.updateResolvConf "/etc/openvpn/update-resolv-conf \"$@\"\n";

  configText = name: s: ''
    errors-to-stderr
    ${lib.optionalString (hasUp s || hasDown s) "script-security 2"}
    ${s.config}
    ${lib.optionalString (hasUp s) "up ${dir name}/up"}
    ${lib.optionalString (hasDown s) "down ${dir name}/down"}
    ${lib.optionalString (s.authUserPass != null) "auth-user-pass ${dir name}/credentials"}
  '';

  files = name: s: {
    "openvpn/nixos/${name}/openvpn.conf" = { text = configText name s; mode = "0600"; };
  } // lib.optionalAttrs (hasUp s) {
    "openvpn/nixos/${name}/up" = { mode = "0755"; text = "#!/bin/bash\n" + foreignOptions + s.up + "\n" + resolvConf s; };
  } // lib.optionalAttrs (hasDown s) {
    "openvpn/nixos/${name}/down" = { mode = "0755"; text = "#!/bin/bash\n" + resolvConf s + s.down + "\n"; };
  } // lib.optionalAttrs (s.authUserPass != null) {
    "openvpn/nixos/${name}/credentials" = { mode = "0600"; text = "${s.authUserPass.username}\n${s.authUserPass.password}\n"; };
  };

  unit = name: s: {
    description = "OpenVPN instance ‘${name}’";
    wantedBy = lib.optional s.autoStart "multi-user.target";
    after = [ "network.target" ];
    path = [ pkgs.iptables pkgs.iproute2 pkgs.net-tools ];
    serviceConfig = {
      ExecStart = "/usr/sbin/openvpn --suppress-timestamps --config ${dir name}/openvpn.conf";
      Restart = "always";
      Type = "notify";
    };
  };
in
{
  options.services.openvpn = {
    servers = mkOption {
      default = { };
      example = lib.literalExpression ''{ server.config = "dev tun\nifconfig 10.8.0.1 10.8.0.2\nsecret /root/static.key\n"; }'';
      description = "OpenVPN instances, each run by openvpn-«name».service from its configuration text.";
      type = types.attrsOf (types.submodule {
        options = {
          config = mkOption { type = types.lines; description = "The instance's configuration, as in openvpn(8); `config /path/to/file.ovpn` imports a file."; };
          up = mkOption { type = types.lines; default = ""; description = "Shell commands run when the tunnel comes up ($dev, $domain, $nameserver are set)."; };
          down = mkOption { type = types.lines; default = ""; description = "Shell commands run when the tunnel goes down."; };
          autoStart = mkOption { type = types.bool; default = true; description = "Whether the instance starts at boot."; };
          updateResolvConf = mkOption { type = types.bool; default = false; description = "Whether the DNS servers and domain the server pushes go to resolvconf (Debian's update-resolv-conf), after `up` and before `down`."; };
          authUserPass = mkOption {
            default = null;
            description = "A user name and password for auth-user-pass, in a file readable by root only.";
            type = types.nullOr (types.submodule {
              options.username = mkOption { type = types.str; description = "The user name."; };
              options.password = mkOption { type = types.str; description = "The password."; };
            });
          };
        };
      });
    };
    restartAfterSleep = mkOption { type = types.bool; default = true; description = "Whether the instances restart after the machine wakes from sleep."; };
  };

  config = lib.mkIf (cfg.servers != { }) {
    assertions = lib.mapAttrsToList (name: _: {
      assertion = builtins.match "[A-Za-z0-9_.-]+" name != null;
      message = "services.openvpn.servers.${name}: the name becomes a unit and a directory name; use letters, digits, '.', '_' and '-'.";
    }) cfg.servers;
    environment.systemPackages = [ pkgs.openvpn ];
    boot.kernelModules = [ "tun" ];
    environment.etc = lib.mkMerge (lib.mapAttrsToList files cfg.servers);
    systemd.services = lib.mapAttrs' (name: s: lib.nameValuePair "openvpn-${name}" (unit name s)) cfg.servers
      // lib.optionalAttrs cfg.restartAfterSleep {
        # SIGHUP makes each instance exit; Restart=always starts it again.
        openvpn-restart = {
          description = "Restarts the OpenVPN instances after the machine wakes";
          wantedBy = [ "sleep.target" ];
          path = [ pkgs.procps ];
          script = "pkill --signal SIGHUP --exact openvpn || true";
          serviceConfig.Type = "oneshot";
        };
      };
  };
}
