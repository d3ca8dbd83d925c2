# specialisation.<name>.configuration (NixOS: nixos/modules/system/activation/specialisation.nix):
# variants of a system, each the whole configuration plus its own module. Every variant is
# built with the generation (system/plan.nix evaluates each with extendModules), sits at
# <generation>/specialisation/<name> with its own bin/switch-to-configuration, and gets its
# own boot entry.
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
in
{
  options.specialisation = mkOption {
    type = types.attrsOf (types.submodule {
      options = {
        inheritParentConfig = mkOption {
          type = types.bool;
          default = true;
          description = "Whether the variant starts from this configuration (only true is supported: a variant is this system plus its module).";
        };
        configuration = mkOption {
          type = types.deferredModule;
          default = { };
          example = lib.literalExpression ''{ services.nginx.enable = false; boot.kernelParams = [ "quiet" ]; }'';
          description = "The module that makes the variant.";
        };
      };
    });
    default = { };
    example = lib.literalExpression ''{ maintenance.configuration = { systemd.services.app.enable = false; }; }'';
    description = "Variants of this system, each with its own boot entry and switch-to-configuration.";
  };

  config.assertions = lib.mapAttrsToList (name: s: {
    assertion = s.inheritParentConfig;
    message = "specialisation.${name}.inheritParentConfig = false is not supported: a variant is this configuration plus its own module.";
  }) config.specialisation;
}
