# services.haproxy (NixOS: nixos/modules/services/networking/haproxy.nix): the load balancer
# with the configuration text given, at /etc/haproxy.cfg as NixOS writes it. Debian's
# haproxy.service runs it in master-worker mode; the drop-in points it at NixOS's file
# (Debian's /etc/default/haproxy could override an Environment= line, so the commands are
# set) and runs it as the haproxy account with the one capability it needs for low ports,
# as NixOS does, instead of as root.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.haproxy;
  run = "/run/haproxy";
  check = "/usr/sbin/haproxy -c -q -f /etc/haproxy.cfg";
in
{
  options.services.haproxy = {
    enable = lib.mkEnableOption "HAProxy, the reliable, high performance TCP/HTTP load balancer";
    package = mkOption { type = types.package; default = pkgs.haproxy; defaultText = lib.literalExpression "pkgs.haproxy"; description = "The HAProxy package."; };
    user = mkOption { type = types.str; default = "haproxy"; description = "The account HAProxy runs as."; };
    group = mkOption { type = types.str; default = "haproxy"; description = "The group HAProxy runs as."; };
    config = mkOption {
      type = types.nullOr types.lines;
      default = null;
      description = "The contents of haproxy.cfg (global, defaults, frontend, backend and listen sections).";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [ {
      assertion = cfg.config != null;
      message = "services.haproxy.config: HAProxy needs a configuration; set it to the text of haproxy.cfg.";
    } ];
    environment.systemPackages = [ cfg.package ];
    users.users = lib.mkIf (cfg.user == "haproxy") { haproxy = { isSystemUser = true; group = cfg.group; home = "/var/lib/haproxy"; description = "HAProxy"; }; };
    users.groups = lib.mkIf (cfg.group == "haproxy") { haproxy = { }; };
    environment.etc."haproxy.cfg".text = if cfg.config == null then "" else cfg.config;
    systemd.services.haproxy = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        User = cfg.user;
        Group = cfg.group;
        AmbientCapabilities = "CAP_NET_BIND_SERVICE";
        CapabilityBoundingSet = "CAP_NET_BIND_SERVICE";
        # A configuration error fails the start with haproxy's own message in the journal.
        ExecStartPre = check;
        ExecStart = [ "" "/usr/sbin/haproxy -Ws -f /etc/haproxy.cfg -p ${run}/haproxy.pid -S ${run}/master.sock" ];
        ExecReload = [ "" check "/bin/kill -USR2 $MAINPID" ];
      };
    };
  };
}
