# Types: merge rules and descriptions (as they appear in error messages and docs).
let
  lib = import ../../../Sources/KilnModules/modules/lib.nix;
  inherit (lib) mkOption types;
  t = types;
  pkg = name: { _type = "package"; pname = name; inherit name; };
  r = lib.evalModules {
    modules = [
      {
        options = {
          lines = mkOption { type = t.lines; };
          commas = mkOption { type = t.commas; };
          envVar = mkOption { type = t.envVar; };
          sep = mkOption { type = t.separatedString " "; };
          sameStr = mkOption { type = t.str; };
          either = mkOption { type = t.listOf (t.either t.int t.str); };
          oneOf = mkOption { type = t.attrsOf (t.oneOf [ t.bool t.int t.str ]); };
          nullOr = mkOption { type = t.nullOr t.str; };
          coerced = mkOption { type = t.coercedTo t.str (s: [ s ]) (t.listOf t.str); };
          fn = mkOption { type = t.functionTo (t.listOf t.int); };
          anything = mkOption { type = t.anything; };
          attrs = mkOption { type = t.attrs; };
          lazy = mkOption { type = t.lazyAttrsOf t.int; };
          enum = mkOption { type = t.enum [ "a" "b" ]; };
          ints = mkOption { type = t.listOf t.ints.u8; };
          matching = mkOption { type = t.strMatching "[a-z]+"; };
          singleLine = mkOption { type = t.singleLineStr; };
          package = mkOption { type = t.package; };
          packages = mkOption { type = t.listOf t.package; };
          path = mkOption { type = t.path; };
          float = mkOption { type = t.number; };
          uniq = mkOption { type = t.uniq t.int; };
          raw = mkOption { type = t.raw; };
          unspecified = mkOption { type = t.unspecified; };
          applied = mkOption { type = t.int; apply = x: x * 2; };
        };
      }
      {
        lines = "a"; commas = "a"; envVar = "/bin"; sep = "x"; sameStr = "same";
        either = [ 1 ]; oneOf.a = true; nullOr = null; coerced = "one"; fn = x: [ x ];
        anything = { a = 1; l = [ 1 ]; s.t = "x"; }; attrs = { a = 1; }; lazy.a = 1;
        enum = "b"; ints = [ 255 ]; matching = "abc"; singleLine = "one line\n";
        package = pkg "bash"; packages = [ (pkg "bash") ]; path = "/etc/x"; float = 1.5; uniq = 1;
        raw = { f = x: x; }; unspecified = [ 1 ]; applied = 21;
      }
      {
        lines = "b"; commas = "b"; envVar = "/usr/bin"; sep = "y"; sameStr = "same";
        either = [ "two" ]; oneOf.b = 2; nullOr = null; coerced = [ "two" ]; fn = x: [ (x + 1) ];
        anything = { b = 2; l = [ 1 ]; s.u = "y"; }; attrs = { b = 2; }; lazy.b = 2;
        packages = [ (pkg "coreutils") ]; unspecified = [ 2 ];
      }
    ];
  };
  c = r.config;
  descriptions = map (t: t.description) [
    t.bool t.int t.ints.unsigned t.ints.positive t.ints.u8 t.ints.u16 t.ints.u32 t.ints.s8 t.ints.s16 t.ints.s32
    (t.ints.between 1 10) t.port t.float t.number t.str t.nonEmptyStr t.singleLineStr t.lines t.commas t.envVar
    (t.separatedString "") t.path t.package (t.enum [ "a" "b" ]) (t.enum [ 1 ]) (t.enum [ ]) (t.nullOr t.str)
    (t.listOf t.str) (t.attrsOf (t.submodule { })) (t.lazyAttrsOf t.int) (t.listOf (t.nullOr t.str))
    (t.either t.int t.str) (t.oneOf [ t.int t.str (t.listOf t.str) ]) t.anything t.raw t.unspecified
    (t.uniq t.int) (t.functionTo t.str) t.attrs (t.strMatching "[0-9]+") (t.coercedTo t.str lib.id (t.listOf t.str))
    t.optionType (t.attrsOf (t.listOf t.str)) (t.nullOr (t.either t.int t.str)) (t.either t.ints.unsigned t.str)
    (t.submoduleWith { modules = [ ]; description = "user"; }) (t.nonEmptyListOf t.str)
  ];
in {
  inherit (c) lines commas envVar sep sameStr either oneOf nullOr coerced anything attrs lazy enum ints
    matching singleLine package packages path float uniq unspecified applied;
  fn = c.fn 10;
  raw = c.raw.f 3;
  inherit descriptions;
  names = map (t: t.name) [ t.bool t.ints.u8 t.port (t.listOf t.str) (t.attrsOf t.int) (t.submodule { }) t.lines ];
  checks = [ (t.port.check 65536) (t.ints.s8.check (-128)) (t.package.check (pkg "x")) (t.package.check { type = "derivation"; }) (t.package.check "bash") (t.path.check "rel") (t.nonEmptyStr.check " ") ];
}
