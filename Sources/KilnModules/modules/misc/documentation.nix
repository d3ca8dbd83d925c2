# documentation.* (NixOS: nixos/modules/misc/documentation.nix), which configurations set to
# trim a system or to ask for man pages. Debian's packages carry their own man pages;
# documentation.man.enable installs man-db to read them. Unlike NixOS, where it is on by
# default, a Kiln image leaves man-db out unless asked: images are kept lean. The other
# switches choose parts of nixpkgs' outputs (doc, info, dev, the NixOS manual), which Debian
# packages do not split the same way: they are accepted, and when set they are named once in
# a warning.
{ config, lib, options, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.documentation;
  accepted = description: mkOption { type = types.bool; default = true; description = "${description} Accepted; no effect in a Kiln image (see the warning)."; };
  set = path:
    let opt = lib.getAttrFromPath path options;
        files = lib.subtractLists (map toString opt.declarations) (map toString opt.files);
    in lib.optional (files != [ ]) "${lib.concatStringsSep "." path} (${lib.concatStringsSep ", " files})";
  setOptions = lib.concatMap set (map (lib.splitString ".") [
    "documentation.enable" "documentation.doc.enable" "documentation.info.enable" "documentation.dev.enable"
    "documentation.nixos.enable" "documentation.man.generateCaches"
  ]);
in
{
  options.documentation = {
    enable = accepted "Whether documentation of packages is installed.";
    man.enable = mkOption { type = types.bool; default = false; description = "Whether man-db is installed to read the packages' man pages (NixOS's default is true; Kiln's false keeps images lean)."; };
    man.generateCaches = accepted "Whether man's index (apropos) is built at build time.";
    doc.enable = accepted "Whether /share/doc of packages is installed.";
    info.enable = accepted "Whether info manuals are installed.";
    dev.enable = accepted "Whether development documentation (section 3 man pages) is installed.";
    nixos.enable = accepted "Whether the NixOS manual is installed.";
  };

  config = {
    environment.systemPackages = lib.mkIf cfg.man.enable [ pkgs.man-db ];
    warnings = lib.optional (setOptions != [ ])
      "${lib.concatStringsSep "; " setOptions}: set, but Debian's packages carry their documentation as they are built, so they do nothing.";
  };
}
