# The system's packages and its session-wide environment (NixOS:
# nixos/modules/config/system-path.nix and config/system-environment.nix).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep filter isList;
  cfg = config.environment;
  value = v: if isList v then concatStringsSep ":" v else toString v;
  vars = filter (k: cfg.sessionVariables.${k} != null) (attrNames cfg.sessionVariables);
in
{
  options.environment = {
    systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      example = lib.literalExpression "with pkgs; [ curl vim ]";
      description = ''
        Debian packages of the system (with everything they depend on). Their files form
        the merged /usr tree that /usr, /bin, /sbin and /lib link to.
      '';
    };
    sessionVariables = mkOption {
      type = types.attrsOf (types.nullOr (types.either types.str (types.listOf types.str)));
      default = { };
      example = { EDITOR = "vi"; };
      description = ''
        Environment variables of every PAM session (written to /etc/environment, which
        pam_env reads: logins, sshd, su), and of login shells. Lists are joined with ":".
      '';
    };
  };

  config = lib.mkIf (vars != [ ]) {
    environment.etc."environment".text = concatStringsSep "" (map (k: "${k}=\"${value cfg.sessionVariables.${k}}\"\n") vars);
    environment.variables = lib.mapAttrs (k: v: lib.mkDefault v) (lib.filterAttrs (k: v: v != null) cfg.sessionVariables);
  };
}
