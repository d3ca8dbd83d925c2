# Kiln's `lib`: the nixpkgs library functions profiles and modules use, with nixpkgs'
# behaviour, and the NixOS module system (lib.evalModules, lib.types, lib.mkOption...).
# Each file under ./lib gets the finished `lib` (a fixpoint), as nixpkgs' lib/default.nix does.
let
  lib = let
    call = file: import file { inherit lib; };
    trivial = call ./lib/trivial.nix;
    lists = call ./lib/lists.nix;
    strings = call ./lib/strings.nix;
    attrsets = call ./lib/attrsets.nix;
    generators = call ./lib/generators.nix;
    options = call ./lib/options.nix;
    typesFile = call ./lib/types.nix;
    modules = call ./lib/modules.nix;
    versions = call ./lib/versions.nix;
    types = typesFile.types // { inherit (typesFile) isType setType mkOptionType defaultTypeMerge defaultFunctor isOptionType optionDescriptionPhrase; };
  in
    trivial // strings // lists // attrsets // options // modules
    // {
      inherit (typesFile) isType setType mkOptionType defaultTypeMerge defaultFunctor isOptionType optionDescriptionPhrase;
      inherit trivial lists strings attrsets generators options modules versions types;
    }
    // {
      # Where lists and strings both name a function, lib's top level has the strings one, as nixpkgs.
      inherit (strings) hasPrefix removePrefix;
      inherit (builtins) add sub lessThan getEnv fromJSON toJSON toFile toXML hashString typeOf
        unsafeGetAttrPos genList elemAt concatLists foldl' seq deepSeq isFloat isPath;
      inherit (trivial) isFunction functionArgs;
      inherit (strings) toInt splitString;
      toHexString = i:
        let
          digits = [ "0" "1" "2" "3" "4" "5" "6" "7" "8" "9" "A" "B" "C" "D" "E" "F" ];
          go = n: if n < 16 then builtins.elemAt digits n else go (n / 16) + builtins.elemAt digits (lib.mod n 16);
        in go i;
    };
in lib
