# The `options' result (type, default, description, declarations, definitions with their
# files, isDefined, value, loc, highestPrio), the documentation list, mkPackageOption,
# mkEnableOption, and the renaming modules.
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types;
  pkgs = { hello = { _type = "package"; pname = "hello"; name = "hello"; }; linux-image-amd64 = { _type = "package"; pname = "linux-image-amd64"; name = "linux-image-amd64"; }; };
  r = lib.evalModules {
    specialArgs = { inherit pkgs; };
    modules = [
      ({ pkgs, ... }: {
        _file = "/kiln/modules/networking.nix";
        options.networking.hostName = mkOption { type = types.str; default = "kiln"; example = "myhost"; description = "The host name."; };
        options.networking.domain = mkOption { type = types.nullOr types.str; default = null; description = "The domain."; };
        options.networking.secret = mkOption { type = types.str; default = "s"; internal = true; description = "Hidden."; };
        options.services.hello.enable = lib.mkEnableOption "the hello service";
        options.services.hello.package = lib.mkPackageOption pkgs "hello" { };
        options.boot.kernelPackage = lib.mkPackageOption pkgs "kernel" { default = [ "linux-image-amd64" ]; };
        options.users.users = mkOption {
          type = types.attrsOf (types.submodule { options.home = mkOption { type = types.str; default = "/home"; description = "Home."; }; });
          default = { };
          description = "Users.";
        };
        options.new.name = mkOption { type = types.str; default = "new-default"; description = "The new name."; };
        options.target.value = mkOption { type = types.int; default = 0; description = "Target."; };
      })
      (lib.mkRenamedOptionModule [ "old" "name" ] [ "new" "name" ])
      (lib.mkAliasOptionModule [ "alias" "value" ] [ "target" "value" ])
      { _file = "/etc/kiln/profile.nix"; networking.hostName = "box"; services.hello.enable = true; alias.value = 7; old.name = lib.mkForce "renamed"; }
      { _file = "/etc/kiln/other.nix"; networking.hostName = lib.mkDefault "ignored"; }
    ];
  };
  o = r.options;
  h = o.networking.hostName;
in {
  hostName = {
    inherit (h) description declarations definitions definitionsWithLocations files isDefined value loc highestPrio default example;
    type = h.type.description;
    str = "${h}";
  };
  domain = { inherit (o.networking.domain) isDefined value definitions; };
  helloPackage = o.services.hello.package.value.pname;
  helloDefaultText = o.services.hello.package.defaultText;
  helloDescription = o.services.hello.package.description;
  kernel = o.boot.kernelPackage.value.pname;
  enableDescription = o.services.hello.enable.description;
  renamed = r.config.new.name;
  aliased = r.config.target.value;
  aliasValue = r.config.alias.value;
  docs = map (d: { inherit (d) name type declarations; default = d.default.text or null; description = d.description; }) (lib.optionsDocList o);
  docNames = map (d: d.name) (lib.optionAttrSetToDocList o);
}
