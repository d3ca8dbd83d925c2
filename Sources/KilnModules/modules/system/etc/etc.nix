# environment.etc: the files of the generated /etc (NixOS: nixos/modules/system/etc/etc.nix).
# Kiln builds the tree (a store object linked from /etc at activation) from these entries:
# `text` becomes a file, `source` a link to that path. With mode "symlink" (the default)
# /etc/<target> links into the store; any other mode makes it a copy with that mode and
# owner, as NixOS does.
{ config, lib, ... }:
let
  inherit (lib) types mkOption;

  etcEntry = { name, config, ... }: {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether this file is generated.";
      };
      target = mkOption {
        type = types.str;
        default = name;
        defaultText = lib.literalExpression "<name>";
        description = "The path below /etc.";
      };
      text = mkOption {
        type = types.nullOr types.lines;
        default = null;
        description = "The file's contents (several definitions are joined by newlines).";
      };
      source = mkOption {
        type = types.nullOr (types.either types.path types.str);
        default = null;
        description = ''
          A path the file links to (a file of a package, e.g. "/usr/share/zoneinfo/UTC", or
          a path of the profile's directory). Relative strings are link targets relative
          to the file, as for systemd's .wants links.
        '';
      };
      mode = mkOption {
        type = types.str;
        default = "symlink";
        example = "0600";
        description = ''
          "symlink" (/etc/<target> links into the generated tree), or an octal mode such
          as "0644": the file is copied with that mode, and with user and group as owner.
        '';
      };
      uid = mkOption {
        type = types.int;
        default = 0;
        description = "Owner of a copied file, by number.";
      };
      gid = mkOption {
        type = types.int;
        default = 0;
        description = "Group of a copied file, by number.";
      };
      user = mkOption {
        type = types.str;
        default = "+${toString config.uid}";
        defaultText = lib.literalExpression ''"+''${toString uid}"'';
        description = "Owner of a copied file: a user name, or \"+N\" for uid N.";
      };
      group = mkOption {
        type = types.str;
        default = "+${toString config.gid}";
        defaultText = lib.literalExpression ''"+''${toString gid}"'';
        description = "Group of a copied file: a group name, or \"+N\" for gid N.";
      };
    };
  };
  enabled = lib.filterAttrs (n: e: e.enable) config.environment.etc;
in
{
  options.environment.etc = mkOption {
    type = types.attrsOf (types.submodule etcEntry);
    default = { };
    example = lib.literalExpression ''{ "motd".text = "Welcome\n"; "foo.conf" = { text = "x=1\n"; mode = "0600"; }; }'';
    description = "Files of /etc: each needs `text` or `source`.";
  };

  config.assertions = lib.mapAttrsToList (name: e: {
    assertion = (e.text == null) != (e.source == null);
    message = "environment.etc.\"${name}\" needs exactly one of text and source.";
  }) enabled
  ++ lib.mapAttrsToList (name: e: {
    assertion = e.mode == "symlink" || builtins.match "0?[0-7]{3,4}" e.mode != null;
    message = "environment.etc.\"${name}\".mode is \"${e.mode}\", not \"symlink\" or an octal mode like \"0644\".";
  }) enabled;
}
