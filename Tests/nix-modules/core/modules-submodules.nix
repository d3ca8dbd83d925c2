# Submodules: attrsOf (submodule ...) with `name', defaults of sub-options, mkIf inside,
# function submodules, listOf submodule, submoduleWith, a second module extending the same
# submodule option, and nested option declarations below a submodule option.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types mkIf mkDefault;
  userModule = { name, config, ... }: {
    options = {
      name = mkOption { type = types.str; default = name; };
      home = mkOption { type = types.str; default = "/home/${config.name}"; };
      uid = mkOption { type = types.nullOr types.int; default = null; };
      isNormalUser = mkOption { type = types.bool; default = false; };
      extraGroups = mkOption { type = types.listOf types.str; default = [ ]; };
    };
  };
  r = lib.evalModules {
    modules = [
      {
        options.users.users = mkOption { type = types.attrsOf (types.submodule userModule); default = { }; };
        options.fileSystems = mkOption {
          type = types.attrsOf (types.submodule ({ name, ... }: {
            options.mountPoint = mkOption { type = types.str; default = name; };
            options.fsType = mkOption { type = types.str; default = "auto"; };
          }));
          default = { };
        };
        options.listeners = mkOption {
          type = types.listOf (types.submodule { options.port = mkOption { type = types.port; }; options.addr = mkOption { type = types.str; default = "0.0.0.0"; }; });
          default = [ ];
        };
        options.box = mkOption {
          type = types.submoduleWith { modules = [ ({ prefixArg, ... }: { options.label = mkOption { type = types.str; default = prefixArg; }; }) ]; specialArgs.prefixArg = "from specialArgs"; };
          default = { };
        };
        options.enableBob = mkOption { type = types.bool; default = false; };
      }
      # Another module adds an option to every user.
      {
        options.users.users = mkOption {
          type = types.attrsOf (types.submodule { options.shell = mkOption { type = types.str; default = "/bin/sh"; }; });
        };
      }
      # Nested declarations below a submodule option extend it too.
      { options.box.size = mkOption { type = types.int; default = 3; }; }
      ({ config, ... }: {
        users.users.alice = { isNormalUser = true; extraGroups = [ "wheel" ]; uid = mkIf config.users.users.alice.isNormalUser 1000; };
        users.users.root = { home = "/root"; uid = 0; shell = "/bin/bash"; };
        users.users.bob = mkIf config.enableBob { };
        users.users.carol = { name, ... }: { home = "/srv/${name}"; };
        fileSystems."/".fsType = "ext4";
        fileSystems."/boot" = { };
        listeners = [ { port = 80; } { port = 443; addr = "::"; } ];
      })
      { users.users.alice.extraGroups = [ "audio" ]; box.size = 5; }
    ];
  };
in {
  inherit (r.config) users fileSystems listeners box;
  type = r.options.users.users.type.description;
  userDecls = map baseNameOf r.options.users.users.declarations;
}
