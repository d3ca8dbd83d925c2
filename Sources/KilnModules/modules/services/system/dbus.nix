# The D-Bus system bus (NixOS: nixos/modules/services/system/dbus.nix), which every system
# runs: hostnamectl, timedatectl, localectl and loginctl talk to their daemons through it,
# and those daemons (Debian's systemd package) are started by it on demand. The bus reads
# the policy and service files packages install in share/dbus-1, which the system path
# gathers, so installing a package is all it takes.
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
    environment.systemPackages = [ pkgs.dbus ] ++ cfg.packages;
    # dbus-daemon drops to this user (Debian's sysusers.d/dbus.conf).
    users.users.messagebus = { isSystemUser = true; group = "messagebus"; home = "/nonexistent"; description = "System Message Bus"; };
    users.groups.messagebus = { };
    environment.etc."systemd/system/sockets.target.wants/dbus.socket".source = "/lib/systemd/system/dbus.socket";
  };
}
