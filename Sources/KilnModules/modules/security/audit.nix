# security.audit (NixOS: nixos/modules/security/audit.nix): the kernel's audit rules and
# settings, loaded by audit.service with auditctl early in boot, as NixOS loads them; `lock`
# makes them immutable until the next boot. Unlike NixOS, a system that leaves it off gets
# no audit.service at all (NixOS runs one that turns auditing off), so images that do not
# audit do not carry Debian's auditd package.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.security.audit;
  enabled = cfg.enable == "lock" || cfg.enable == true;
  failureModes = { silent = 0; printk = 1; panic = 2; };
in
{
  options.security.audit = {
    enable = mkOption {
      type = types.enum [ false true "lock" ];
      default = false;
      description = "Whether to enable the Linux audit system; `lock` also forbids changing the rules until the next boot.";
    };
    failureMode = mkOption { type = types.enum [ "silent" "printk" "panic" ]; default = "printk"; description = "What the kernel does on a critical audit error."; };
    backlogLimit = mkOption { type = types.int; default = 64; description = "How many audit buffers may wait; more is a failure, handled as failureMode says."; };
    rateLimit = mkOption { type = types.int; default = 0; description = "The most messages a second before a failure (0: no limit)."; };
    rules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "-a exit,always -F arch=b64 -S execve" ];
      description = "The audit rules in order, each a line of an audit.rules file (auditctl's arguments).";
    };
  };

  config = lib.mkIf enabled {
    environment.systemPackages = [ pkgs.auditd ];
    # The rules as a file readable by root only, which auditctl -R loads.
    environment.etc."audit/kiln.rules" = { mode = "0600"; text = lib.concatMapStrings (r: r + "\n") cfg.rules; };
    systemd.services.audit = {
      description = "Kernel Auditing";
      wantedBy = [ "basic.target" ];
      unitConfig = { ConditionVirtualization = "!container"; ConditionSecurity = "audit"; };
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = [
          "/usr/sbin/auditctl -D"
        ] ++ lib.optional (cfg.rules != [ ]) "/usr/sbin/auditctl -R /etc/audit/kiln.rules" ++ [
          "/usr/sbin/auditctl -e ${if cfg.enable == "lock" then "2" else "1"} -b ${toString cfg.backlogLimit} -f ${toString failureModes.${cfg.failureMode}} -r ${toString cfg.rateLimit}"
        ];
        ExecStop = [ "/usr/sbin/auditctl -D" "/usr/sbin/auditctl -e 0" ];
      };
    };
  };
}
