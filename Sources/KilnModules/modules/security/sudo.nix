# security.sudo (NixOS: nixos/modules/security/sudo.nix) with Debian's sudo: /etc/sudoers
# from the options (mode 0440, as sudo demands), Debian's /etc/pam.d/sudo, and the setuid
# /usr/bin/sudo the .deb ships (Kiln's store keeps its 04755 root:root).
#
# NixOS enables sudo by default; Kiln only when some user is in `wheel` (or it is asked
# for), so that a profile gets no package it did not ask for (and a setuid-root program),
# while a NixOS configuration that makes a user an admin the usual way ("extraGroups =
# [ "wheel" ]; # Enable 'sudo' for the user", as the installer's configuration.nix says)
# gets the sudo it relies on. Members of `wheel` (users.groups.wheel) may run anything as root.
#
# The file is laid out as NixOS's, so that a configuration's rules land where they would
# there: root's rule is fixed text ahead of every rule, wheel's rule sits at mkOrder 600
# (a rule given with mkBefore comes before it, a plain one after it), and extraConfig
# comes last, where a later line overrides an earlier one.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) concatStringsSep isString isInt;
  cfg = config.security.sudo;

  commandType = types.either types.str (types.submodule {
    options = {
      command = mkOption { type = types.str; description = "The command (a full path, or ALL)."; };
      options = mkOption {
        type = types.listOf (types.enum [ "NOPASSWD" "PASSWD" "NOEXEC" "EXEC" "SETENV" "NOSETENV" "LOG_INPUT" "NOLOG_INPUT" "LOG_OUTPUT" "NOLOG_OUTPUT" ]);
        default = [ ];
        description = "Tags of the command.";
      };
    };
  });

  ruleType = types.submodule {
    options = {
      users = mkOption { type = types.listOf (types.either types.str types.int); default = [ ]; description = "Users the rule is for (numbers are uids)."; };
      groups = mkOption { type = types.listOf (types.either types.str types.int); default = [ ]; description = "Groups the rule is for (numbers are gids)."; };
      host = mkOption { type = types.str; default = "ALL"; description = "The host the rule holds on."; };
      runAs = mkOption { type = types.str; default = "ALL:ALL"; description = "Whom the commands may run as (user:group)."; };
      commands = mkOption { type = types.listOf commandType; description = "The commands: strings, or { command; options; }."; };
    };
  };

  # sudoers names a uid as #N and a gid as %#N.
  who = r: map (u: if isInt u then "#${toString u}" else u) r.users
    ++ map (g: if isInt g then "%#${toString g}" else "%${g}") r.groups;
  command = c: if isString c then c else concatStringsSep "" (map (o: "${o}: ") c.options) + c.command;
  # A rule without commands is no sudoers line at all (visudo refuses one), as in NixOS.
  ruleLines = r: lib.optionals (r.commands != [ ])
    (map (w: "${w} ${r.host}=(${r.runAs}) ${concatStringsSep ", " (map command r.commands)}") (who r));
in
{
  options.security.sudo = {
    enable = mkOption {
      type = types.bool;
      default = lib.any (u: builtins.elem "wheel" u.extraGroups) (builtins.attrValues config.users.users);
      defaultText = lib.literalExpression ''any user has "wheel" in users.users.<name>.extraGroups'';
      description = "Whether to install sudo (NixOS: always on by default; Kiln: when some user is in wheel, so profiles without admins get no setuid program they did not ask for).";
    };
    package = lib.mkPackageOption pkgs "sudo" { };
    wheelNeedsPassword = mkOption {
      type = types.bool;
      default = true;
      description = "Whether members of wheel must give their password to sudo.";
    };
    execWheelOnly = mkOption {
      type = types.bool;
      default = false;
      description = "Whether only wheel may run sudo (accepted, with a warning: Kiln keeps Debian's 04755 sudo).";
    };
    keepTerminfo = mkOption {
      type = types.bool;
      default = true;
      description = "Whether TERMINFO and TERMINFO_DIRS survive sudo for root and wheel.";
    };
    extraRules = mkOption {
      type = types.listOf ruleType;
      default = [ ];
      example = [ { users = [ "backup" ]; commands = [ { command = "/usr/bin/rsync"; options = [ "NOPASSWD" ]; } ]; } ];
      description = ''
        Rules of /etc/sudoers, after root's. Users and groups are names or numbers (uids,
        gids); commands are strings or { command; options; }. Later rules win in sudoers, so
        general ones go first: wheel's rule is at mkOrder 600, before plain definitions and
        after mkBefore ones.
      '';
    };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Text added at the end of /etc/sudoers.";
    };
    configFile = mkOption {
      type = types.lines;
      default = "";
      description = "The whole of /etc/sudoers (made from the options above; a definition adds lines).";
    };
  };

  config = lib.mkIf cfg.enable {
    security.sudo.extraRules = lib.mkOrder 600 [
      { groups = [ "wheel" ]; commands = [ { command = "ALL"; options = (lib.optional (!cfg.wheelNeedsPassword) "NOPASSWD") ++ [ "SETENV" ]; } ]; }
    ];
    # The sudo in the store is one object for every machine that uses it, so its mode
    # cannot depend on one configuration; say so rather than let the option seem to work.
    warnings = lib.optional cfg.execWheelOnly
      "security.sudo.execWheelOnly has no effect in Kiln: /usr/bin/sudo stays 04755 root:root, so anyone may run it (sudoers still decides what they may do).";
    security.sudo.configFile = ''
      # Generated by Kiln from security.sudo.
      # Keep SSH_AUTH_SOCK so that an agent keeps working.
      Defaults env_keep+=SSH_AUTH_SOCK
      ${lib.optionalString cfg.keepTerminfo ''
        Defaults:root,%wheel env_keep+=TERMINFO_DIRS
        Defaults:root,%wheel env_keep+=TERMINFO
      ''}
      root ALL=(ALL:ALL) SETENV: ALL
      ${concatStringsSep "\n" (lib.concatMap ruleLines cfg.extraRules)}
    '' + lib.optionalString (cfg.extraConfig != "") "\n${cfg.extraConfig}\n";
    environment.systemPackages = [ cfg.package ];
    environment.etc."sudoers" = {
      mode = "0440";
      text = cfg.configFile;
    };
  };
}
