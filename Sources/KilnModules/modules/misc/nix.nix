# nix.* and nixpkgs.* (NixOS: nixos/modules/services/system/nix-daemon.nix, config/nix.nix,
# misc/nixpkgs.nix), which nearly every configuration.nix sets. A Kiln image has no Nix:
# packages come from Debian and the store is Kiln's, so there is nothing for them to do.
# They are accepted, so the configuration evaluates unchanged, and the ones set are named
# once in one warning, with their files. (nixpkgs.hostPlatform, which does pick the
# architecture, is in system/kiln.nix.)
{ config, lib, options, ... }:
let
  inherit (lib) types mkOption;
  anything = mkOption { type = types.anything; default = null; description = "Accepted; no effect in a Kiln image (see the warning)."; };
  attrs = mkOption { type = types.attrsOf types.anything; default = { }; description = "Accepted; no effect in a Kiln image (see the warning)."; };
  # Set by the configuration: defined in a file other than the one declaring it.
  set = path:
    let opt = lib.getAttrFromPath path options;
        files = lib.subtractLists (map toString opt.declarations) (map toString opt.files);
    in lib.optional (files != [ ]) "${lib.concatStringsSep "." path} (${lib.concatStringsSep ", " files})";
  setOptions = lib.concatMap set (map (lib.splitString ".") [
    "nix.enable" "nix.package" "nix.settings" "nix.extraOptions" "nix.nixPath" "nix.registry" "nix.channel.enable"
    "nix.gc.automatic" "nix.gc.dates" "nix.gc.options" "nix.gc.persistent" "nix.optimise.automatic" "nix.optimise.dates"
    "nix.buildMachines" "nix.distributedBuilds"
    "nixpkgs.config" "nixpkgs.overlays" "nixpkgs.pkgs" "nixpkgs.system" "nixpkgs.buildPlatform"
  ]);
in
{
  options.nix = {
    enable = mkOption { type = types.bool; default = true; description = "Accepted; a Kiln image has no Nix daemon."; };
    package = anything;
    settings = attrs;
    extraOptions = mkOption { type = types.lines; default = ""; description = "Accepted; no effect in a Kiln image (see the warning)."; };
    nixPath = mkOption { type = types.listOf types.str; default = [ ]; description = "Accepted; no effect in a Kiln image (see the warning)."; };
    registry = attrs;
    channel.enable = mkOption { type = types.bool; default = true; description = "Accepted; no effect in a Kiln image (see the warning)."; };
    gc = {
      automatic = mkOption { type = types.bool; default = false; description = "Accepted; no effect (kiln gc --target-host collects a machine's store)."; };
      dates = anything;
      options = anything;
      persistent = anything;
    };
    optimise = {
      automatic = mkOption { type = types.bool; default = false; description = "Accepted; no effect in a Kiln image (see the warning)."; };
      dates = anything;
    };
    buildMachines = mkOption { type = types.listOf types.anything; default = [ ]; description = "Accepted; no effect in a Kiln image (see the warning)."; };
    distributedBuilds = mkOption { type = types.bool; default = false; description = "Accepted; no effect in a Kiln image (see the warning)."; };
  };
  options.nixpkgs = {
    config = attrs;
    overlays = mkOption { type = types.listOf types.anything; default = [ ]; description = "Accepted; no effect in a Kiln image: pkgs.NAME is Debian's package NAME."; };
    pkgs = anything;
    system = anything;
    buildPlatform = anything;
  };

  config.warnings = lib.optional (setOptions != [ ])
    "${lib.concatStringsSep "; " setOptions}: set, but a Kiln image has no Nix (packages are Debian's, the store is Kiln's), so they do nothing.";
}
