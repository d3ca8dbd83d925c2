# i18n (NixOS: nixos/modules/config/i18n.nix): the system's locale, /etc/locale.conf (systemd)
# and /etc/default/locale (pam_env, for sshd and su). C.UTF-8 is built into glibc; any other
# locale comes from Debian's locales-all (every locale precompiled, ~230 MB installed), since
# locale-gen, what Debian's `locales` runs in its postinst, cannot write into the store.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep elem;
  cfg = config.i18n;
  builtIn = [ "C" "POSIX" "C.UTF-8" "C.utf8" ];
  text = "LANG=${cfg.defaultLocale}\n"
    + concatStringsSep "" (map (k: "${k}=${cfg.extraLocaleSettings.${k}}\n") (attrNames cfg.extraLocaleSettings));
  used = [ cfg.defaultLocale ] ++ builtins.attrValues cfg.extraLocaleSettings;
in
{
  options.i18n = {
    defaultLocale = mkOption {
      type = types.strMatching "[A-Za-z0-9_.@-]+";
      default = "C.UTF-8";
      example = "en_US.UTF-8";
      description = "The locale of the system (LANG).";
    };
    extraLocaleSettings = mkOption {
      type = types.attrsOf (types.strMatching "[A-Za-z0-9_.@-]+");
      default = { };
      example = { LC_TIME = "en_GB.UTF-8"; };
      description = "More locale variables (LC_*) of the system.";
    };
    supportedLocales = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Locales to make available (NixOS); with Kiln every locale is there once one is not built in.";
    };
  };

  config = {
    environment.systemPackages = lib.optional (lib.any (l: !elem l builtIn) (used ++ cfg.supportedLocales)) pkgs.locales-all;
    environment.etc."locale.conf".text = text;
    environment.etc."default/locale".text = text;
    assertions = map (k: {
      assertion = builtins.match "LC_[A-Z]+|LANGUAGE" k != null;
      message = "i18n.extraLocaleSettings.\"${k}\" is not a locale variable (LC_TIME, LC_MESSAGES, ...).";
    }) (attrNames cfg.extraLocaleSettings);
  };
}
