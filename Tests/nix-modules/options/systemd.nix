# Services, their scripts and environment, a timer, and a unit turned off.
{ pkgs, lib, ... }:
{
  systemd.services.hello = {
    description = "Say hello";
    wantedBy = [ "multi-user.target" ];
    requiredBy = [ "foo.target" ];
    after = [ "network.target" ];
    environment = { MSG = ''say "hi" 100% \o/''; EMPTY = null; };
    path = [ pkgs.curl "/opt/foo" ];
    preStart = "mkdir -p /run/hello";
    script = ''echo "$MSG"'';
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; ExecStartPre = "/usr/bin/true"; TimeoutSec = 5; };
    unitConfig.ConditionPathExists = "/etc/hostname";
    startAt = "daily";
  };
  systemd.services.gone = { wantedBy = [ "multi-user.target" ]; script = "true"; enable = false; };
  systemd.services.debian-unit = { overrideStrategy = "asDropin"; wantedBy = [ "multi-user.target" ]; serviceConfig.Nice = 5; };
  # A package (or pkgs.writeShellScript's result) stands for its path, as in NixOS.
  systemd.services.tool.serviceConfig.ExecStart = { type = "derivation"; name = "tool"; outPath = "/srv/tool/bin/tool"; };
  systemd.timers.cleanup = { timerConfig.OnBootSec = "5min"; };
  systemd.tmpfiles.rules = [ "d /var/lib/hello 0750 root root -" ];
  boot.kernel.sysctl = { "net.ipv4.ip_forward" = true; "vm.swappiness" = 10; "kernel.x" = null; };
}
