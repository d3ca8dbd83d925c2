# security.polkit (NixOS: nixos/modules/security/polkit.nix): who may do what through the
# system's daemons (NetworkManager, udisks, systemctl as a user). Debian's polkitd is started
# by the bus; it reads JavaScript rules from /etc/polkit-1/rules.d, where extraConfig and
# adminIdentities go, as NixOS writes them.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.security.polkit;
in
{
  options.security.polkit = {
    enable = mkOption { type = types.bool; default = false; description = "Whether polkit decides what unprivileged users may ask of the system's daemons."; };
    package = mkOption { type = types.package; default = pkgs.polkitd; defaultText = lib.literalExpression "pkgs.polkitd"; description = "The polkit daemon's package."; };
    debug = mkOption { type = types.bool; default = false; description = "Whether polkitd logs its decisions (and polkit.log in rules prints)."; };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      example = ''
        polkit.addRule(function(action, subject) {
          if (subject.isInGroup("wheel")) { return polkit.Result.YES; }
        });
      '';
      description = "Rules (JavaScript) in /etc/polkit-1/rules.d/10-nixos.rules.";
    };
    adminIdentities = mkOption {
      type = types.listOf types.str;
      default = [ "unix-group:wheel" ];
      example = [ "unix-user:alice" "unix-group:admin" ];
      description = "Who authenticates as an administrator when an action asks for one.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    services.dbus.packages = [ cfg.package ];
    # polkitd drops to this user: Debian's sysusers.d/polkitd.conf.
    users.users.polkitd = { isSystemUser = true; group = "polkitd"; description = "polkit"; };
    users.groups.polkitd = { };
    environment.etc."polkit-1/rules.d/10-nixos.rules".text = ''
      polkit.addAdminRule(function(action, subject) {
        return [${lib.concatMapStringsSep ", " (i: "\"${i}\"") cfg.adminIdentities}];
      });

      ${cfg.extraConfig}
    '';
    systemd.services.polkit = lib.mkIf cfg.debug {
      overrideStrategy = "asDropin";
      # Without --no-debug, polkitd logs what it decides.
      serviceConfig.ExecStart = [ "" "/usr/lib/polkit-1/polkitd" ];
    };
  };
}
