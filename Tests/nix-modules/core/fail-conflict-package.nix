let lib = import ../../../Sources/KilnModules/modules/lib.nix; pkg = n: { _type = "package"; pname = n; name = n; }; in
(lib.evalModules {
  modules = [
    { options.boot.kernelPackage = lib.mkOption { type = lib.types.package; }; }
    { _file = "/hw.nix"; boot.kernelPackage = pkg "linux-image-amd64"; }
    { _file = "/profile.nix"; boot.kernelPackage = pkg "linux-image-cloud-amd64"; }
  ];
}).config.boot.kernelPackage
