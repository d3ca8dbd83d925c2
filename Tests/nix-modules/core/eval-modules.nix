# Kiln's eval-modules.nix: config, options and packageRequests (which file asked for which
# package), with a pkgs like Kiln's (every name is a package).
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  evalModules = import ../../../Sources/KilnModules/modules/eval-modules.nix;
  pkgs = builtins.listToAttrs (map (n: { name = n; value = { _type = "package"; pname = n; name = n; }; })
    [ "systemd" "bash" "coreutils" "openssh-server" "openssh-sftp-server" "never" ]);
  r = evalModules {
    inherit lib;
    modules = [ ./modules/kiln-options.nix ./modules/ssh-extra.nix ./modules/profile.nix ];
    specialArgs = { inherit pkgs; modulesPath = ../../../Sources/KilnModules/modules; };
  };
in {
  hostName = r.config.networking.hostName;
  packages = map (p: p.pname) r.config.environment.systemPackages;
  requests = map (q: { inherit (q) name; file = baseNameOf q.file; }) r.packageRequests;
  systemPackagesType = r.options.environment.systemPackages.type.description;
}
