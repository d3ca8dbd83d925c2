# programs.firefox of NixOS (nixos/modules/programs/firefox.nix), the line NixOS's graphical
# installer writes into every desktop configuration. Debian's browser is Firefox ESR.
#
# NixOS writes the policies to /etc/firefox/policies/policies.json, and Debian's Firefox ESR
# reads that same file (traced: it looks there before its own distribution folder).
# Preferences become the policy "Preferences", each with preferencesStatus, as NixOS does.
# Language packs are Debian's firefox-esr-l10n-<lang> packages instead of downloads at first
# start.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.programs.firefox;
  # NixOS names packs as Mozilla does (en-GB, pt-BR); Debian's package names are lower case.
  l10nPackage = lang: pkgs."firefox-esr-l10n-${lib.toLower lang}";
in
{
  options.programs.firefox = {
    enable = lib.mkEnableOption "the Firefox web browser (Debian's Firefox ESR)";
    package = mkOption {
      type = types.package;
      default = pkgs.firefox-esr;
      defaultText = lib.literalExpression "pkgs.firefox-esr";
      description = "The browser; pkgs.firefox means Debian's firefox-esr too.";
    };
    policies = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      example = { DisableTelemetry = true; DisablePocket = true; };
      description = ''
        Enterprise policies (https://mozilla.github.io/policy-templates/), written to
        /etc/firefox/policies/policies.json, which Firefox reads at start.
      '';
    };
    preferences = mkOption {
      type = types.attrsOf (types.oneOf [ types.bool types.int types.str ]);
      default = { };
      example = { "browser.tabs.tabmanager.enabled" = false; };
      description = "about:config preferences, set through the policy \"Preferences\" with preferencesStatus.";
    };
    preferencesStatus = mkOption {
      type = types.enum [ "default" "locked" "user" "clear" ];
      default = "locked";
      description = "How the preferences are applied: locked (users cannot change them), default, user or clear.";
    };
    languagePacks = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "de" "en-GB" ];
      description = "Languages whose packs are installed (Debian's firefox-esr-l10n-<lang>).";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ] ++ map l10nPackage cfg.languagePacks;
    programs.firefox.policies = {
      DisableAppUpdate = true;
    } // lib.optionalAttrs (cfg.preferences != { }) {
      Preferences = builtins.mapAttrs (_: value: { Value = value; Status = cfg.preferencesStatus; }) cfg.preferences;
    };
    environment.etc."firefox/policies/policies.json".text = builtins.toJSON { inherit (cfg) policies; };
  };
}
