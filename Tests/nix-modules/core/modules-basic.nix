# Module forms: attrsets, functions, paths, imports of imports, `options'/`config' and the
# shorthand, `_file', dedup of a path imported twice, disabledModules, the config fixpoint,
# _module.args and specialArgs.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  r = lib.evalModules {
    specialArgs = { greeting = "hello"; };
    modules = [
      ./modules/declare-services.nix
      ./modules/enable-ssh.nix
      ./modules/disabled.nix
      { disabledModules = [ ./modules/disabled.nix ]; }
      {
        _file = "/etc/kiln/explicit.nix";
        options.networking.hostName = lib.mkOption { type = lib.types.str; default = "nixos"; };
        options.message = lib.mkOption { type = lib.types.str; };
        options.fromArgs = lib.mkOption { type = lib.types.str; };
        config.networking.hostName = "box";
      }
      ({ config, greeting, ... }: {
        message = "${greeting} from ${config.networking.hostName}, ssh ${if config.services.openssh.enable then "on" else "off"}";
      })
      ({ lib, ... }: { imports = [ { _module.args.answer = 42; } ]; })
      ({ answer, name ? "none", ... }: { fromArgs = "answer ${toString answer}"; })
    ];
  };
in {
  inherit (r) config;
  hostNameFiles = r.options.networking.hostName.files;
  sshDecls = map baseNameOf r.options.services.openssh.enable.declarations;
}
