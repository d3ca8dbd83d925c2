# The D-Bus system bus and each user's session bus (NixOS:
# nixos/modules/services/system/dbus.nix), which every system runs: hostnamectl,
# timedatectl, localectl and loginctl talk to their daemons through it, and those daemons
# (Debian's systemd package) are started by it on demand. The bus reads the policy and
# service files packages install in share/dbus-1, which the system path gathers, so
# installing a package is all it takes.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.services.dbus;
in
{
  options.services.dbus = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the system bus runs (off leaves hostnamectl, timedatectl, localectl and loginctl without their daemons).";
    };
    packages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Packages whose D-Bus policies and services the bus uses (share/dbus-1/system.d, system-services): they are installed.";
    };
  };

  config = lib.mkIf cfg.enable {
    # dbus-user-session: each user's own bus, socket-activated by their systemd (its package
    # ships the sockets.target.wants link), as NixOS has it: `systemctl --user -M user@`,
    # gsettings and desktop programs talk through it.
    environment.systemPackages = [ pkgs.dbus pkgs.dbus-user-session ] ++ cfg.packages;
    # dbus-daemon drops to this user (Debian's sysusers.d/dbus.conf).
    users.users.messagebus = { isSystemUser = true; group = "messagebus"; home = "/nonexistent"; description = "System Message Bus"; };
    users.groups.messagebus = { };
    environment.etc."systemd/system/sockets.target.wants/dbus.socket".source = "/lib/systemd/system/dbus.socket";
  };
}
