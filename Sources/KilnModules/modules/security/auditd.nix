# security.auditd (NixOS: nixos/modules/security/auditd.nix): the audit daemon, writing the
# kernel's audit records to /var/log/audit/audit.log (Debian's auditd.conf), run as NixOS
# runs it: in the foreground, leaving whether auditing is on to security.audit and the
# kernel's audit=1. Debian's own auditd.service, which would load /etc/audit/rules.d with
# augenrules, is replaced by this unit.
{ config, lib, pkgs, ... }:
{
  options.security.auditd.enable = lib.mkEnableOption "the Linux Audit daemon";

  config = lib.mkIf config.security.auditd.enable {
    boot.kernelParams = [ "audit=1" ];
    environment.systemPackages = [ pkgs.auditd ];
    systemd.services.auditd = {
      description = "Linux Audit daemon";
      documentation = [ "man:auditd(8)" ];
      wantedBy = [ "basic.target" ];
      before = [ "shutdown.target" ];
      conflicts = [ "shutdown.target" ];
      unitConfig = {
        ConditionVirtualization = "!container";
        ConditionSecurity = "audit";
        DefaultDependencies = false;
      };
      serviceConfig = {
        ExecStartPre = "/usr/bin/mkdir -p /var/log/audit";
        ExecStart = "/usr/sbin/auditd -l -n -s nochange";
      };
    };
  };
}
