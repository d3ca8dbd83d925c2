let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  r = import ../../../Sources/KilnModules/modules/eval-modules.nix {
    inherit lib;
    specialArgs = { pkgs = { }; modulesPath = ../../../Sources/KilnModules/modules; };
    modules = [
      { options.networking.hostName = lib.mkOption { type = lib.types.str; default = ""; }; }
      ({ config, ... }: { assertions = [
        { assertion = config.networking.hostName != ""; message = "hostName must not be empty"; }
        { assertion = true; message = "not shown"; }
        { assertion = false; message = "second failure"; }
      ]; })
    ];
  };
in r.config.networking.hostName
