# lib.strings, after nixpkgs' lib/strings.nix (MIT).
{ lib }:
let
  inherit (builtins) length elemAt genList filter head tail isString isList match split
    substring stringLength concatStringsSep replaceStrings toJSON elem;
in
rec {
  inherit (builtins) stringLength substring concatStringsSep replaceStrings split match
    compareVersions toString;
  concatStrings = concatStringsSep "";
  concatMapStrings = f: list: concatStrings (map f list);
  concatImapStrings = f: list: concatStrings (lib.imap1 f list);
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
  concatImapStringsSep = sep: f: list: concatStringsSep sep (lib.imap1 f list);
  concatLines = concatMapStrings (s: s + "\n");
  intersperse = separator: list:
    if list == [ ] || length list == 1 then list
    else tail (lib.concatMap (x: [ separator x ]) list);
  replicate = n: s: concatStrings (lib.lists.replicate n s);
  optionalString = cond: string: if cond then string else "";
  hasPrefix = pref: str: substring 0 (stringLength pref) str == pref;
  hasSuffix = suffix: content:
    let lenContent = stringLength content; lenSuffix = stringLength suffix;
    in lenContent >= lenSuffix && substring (lenContent - lenSuffix) lenContent content == suffix;
  # builtins.split, not ".*infix.*": `.` must match newlines too (see /tmp/kiln-evaluator-bugs.md).
  hasInfix = infix: content: infix == "" || length (split (escapeRegex infix) "${content}") > 1;
  stringToCharacters = s: genList (p: substring p 1 s) (stringLength s);
  stringAsChars = f: s: concatStrings (map f (stringToCharacters s));
  escape = list: replaceStrings list (map (c: "\\${c}") list);
  escapeRegex = escape (stringToCharacters "\\[{()^$?*+|.");
  escapeShellArg = arg:
    let string = toString arg;
    in if match "[[:alnum:],._+:@%/-]+" string == null
      then "'${replaceStrings [ "'" ] [ "'\\''" ] string}'"
      else string;
  escapeShellArgs = concatMapStringsSep " " escapeShellArg;
  isValidPosixName = name: match "[a-zA-Z_][a-zA-Z0-9_]*" name != null;
  toShellVar = name: value:
    lib.throwIfNot (isValidPosixName name) "toShellVar: ${name} is not a valid shell variable name" (
      if lib.isAttrs value && !isStringLike value then
        "declare -A ${name}=(${concatStringsSep " " (lib.mapAttrsToList (n: v: "[${escapeShellArg n}]=${escapeShellArg v}") value)})"
      else if isList value then
        "declare -a ${name}=(${escapeShellArgs value})"
      else "${name}=${escapeShellArg value}");
  toShellVars = vars: concatStringsSep "\n" (lib.mapAttrsToList toShellVar vars);
  escapeNixString = s: escape [ "$" ] (toJSON s);
  escapeRegexString = escapeRegex;
  escapeNixIdentifier = s:
    if match "[a-zA-Z_][a-zA-Z0-9_'-]*" s != null then s else escapeNixString s;
  escapeXML = replaceStrings [ "\"" "'" "<" ">" "&" ] [ "&quot;" "&apos;" "&lt;" "&gt;" "&amp;" ];
  lowerChars = stringToCharacters "abcdefghijklmnopqrstuvwxyz";
  upperChars = stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  toLower = replaceStrings upperChars lowerChars;
  toUpper = replaceStrings lowerChars upperChars;
  toSentenceCase = str:
    let firstChar = substring 0 1 str; rest = substring 1 (stringLength str) str;
    in toUpper firstChar + toLower rest;
  addContextFrom = src: target: substring 0 0 src + target;
  splitString = sep: s:
    let splits = filter isString (split (escapeRegex (toString sep)) (toString s));
    in map (addContextFrom s) splits;
  removePrefix = prefix: str:
    let preLen = stringLength prefix;
    in if substring 0 preLen str == prefix then substring preLen (stringLength str - preLen) str else str;
  removeSuffix = suffix: str:
    let sufLen = stringLength suffix; sLen = stringLength str;
    in if sufLen <= sLen && suffix == substring (sLen - sufLen) sufLen str
      then substring 0 (sLen - sufLen) str else str;
  versionOlder = v1: v2: compareVersions v2 v1 == 1;
  versionAtLeast = v1: v2: !versionOlder v1 v2;
  getName = x: (builtins.parseDrvName (x.name or x)).name;
  getVersion = x: (builtins.parseDrvName (x.name or x)).version;
  nameFromURL = url: sep:
    let components = splitString "/" url; filename = lib.last components;
        name = head (splitString sep filename);
    in assert name != filename; name;
  enableFeature = flag: feature: "--${if flag then "enable" else "disable"}-${feature}";
  enableFeatureAs = flag: feature: value: enableFeature flag feature + optionalString flag "=${value}";
  withFeature = flag: feature: "--${if flag then "with" else "without"}-${feature}";
  withFeatureAs = flag: feature: value: withFeature flag feature + optionalString flag "=${value}";
  mesonOption = feature: value: "-D${feature}=${value}";
  mesonBool = condition: flag: mesonOption condition (lib.boolToString flag);
  fixedWidthString = width: filler: str:
    let strw = stringLength str; reqWidth = width - (stringLength filler);
    in assert lib.assertMsg (strw <= width) "fixedWidthString: requested string length (${toString width}) must not be shorter than actual length (${toString strw})";
      if strw == width then str else filler + fixedWidthString reqWidth filler str;
  fixedWidthNumber = width: n: fixedWidthString width "0" (toString n);
  floatToString = float:
    let result = toString float; precise = float == builtins.fromJSON result;
    in lib.warnIf (!precise) "Imprecise conversion from float to string ${result}" result;
  isStringLike = x: isString x || builtins.isPath x || x ? outPath || x ? __toString;
  isCoercibleToString = isStringLike;
  isStorePath = x:
    if isStringLike x then
      let str = toString x;
      in substring 0 1 str == "/" && builtins.dirOf str == builtins.storeDir
    else false;
  toInt = str:
    let
      strippedInput = match "[[:space:]]*(-?[[:digit:]]+)[[:space:]]*" str;
      isLeadingZero = match "0[[:digit:]]+" (head strippedInput) == [ ];
      parsedInput = builtins.fromJSON (head strippedInput);
      generalError = "toInt: Could not convert ${escapeNixString str} to int.";
      octalAmbigError = "toInt: Ambiguity in interpretation of ${escapeNixString str}"
        + " between octal and zero padded integer.";
    in if strippedInput == null then throw generalError
      else if isLeadingZero then throw octalAmbigError
      else if !builtins.isInt parsedInput then throw generalError
      else parsedInput;
  toIntBase10 = str:
    let
      strippedInput = match "[[:space:]]*0*(-?[[:digit:]]+)[[:space:]]*" str;
      parsedInput = builtins.fromJSON (head strippedInput);
    in if strippedInput == null || !builtins.isInt parsedInput
      then throw "toIntBase10: Could not convert ${escapeNixString str} to int." else parsedInput;
  readPathsFromFile = rootPath: file:
    let lines = splitString "\n" (builtins.readFile file);
    in map (x: rootPath + "/${x}") (filter (x: match "#.*|[[:space:]]*" x == null) lines);
  fileContents = file: removeSuffix "\n" (builtins.readFile file);
  # Without regexes: `.` must match newlines (see /tmp/kiln-evaluator-bugs.md).
  trimWith = { start ? false, end ? false }: s:
    let
      isWs = c: c == " " || c == "\t" || c == "\r" || c == "\n";
      len = stringLength s;
      first = i: if i < len && isWs (substring i 1 s) then first (i + 1) else i;
      lastNonWs = i: if i > 0 && isWs (substring (i - 1) 1 s) then lastNonWs (i - 1) else i;
      from = if start then first 0 else 0;
      to = if end then lastNonWs len else len;
    in if to <= from then "" else substring from (to - from) s;
  trim = trimWith { start = true; end = true; };
  makeSearchPath = subDir: paths:
    concatStringsSep ":" (map (path: path + "/" + subDir) (filter (x: x != null) paths));
  makeSearchPathOutput = output: subDir: pkgs: makeSearchPath subDir (map (lib.getOutput output) pkgs);
  makeLibraryPath = makeSearchPathOutput "lib" "lib";
  makeIncludePath = makeSearchPathOutput "dev" "include";
  makeBinPath = makeSearchPathOutput "bin" "bin";
  normalizePath = s:
    lib.warnIf (builtins.isPath s) "lib.normalizePath: The argument (${toString s}) is a path value, but only strings are supported."
      (builtins.foldl' (x: y: if y == "/" && hasSuffix "/" x then x else x + y) "" (stringToCharacters s));
  commonPrefixLength = a: b:
    let m = lib.min (stringLength a) (stringLength b);
        go = i: if i >= m then m else if substring i 1 a == substring i 1 b then go (i + 1) else i;
    in go 0;
  # Edit distance (insertions, deletions, substitutions), for "Did you mean" suggestions.
  levenshtein = a: b:
    let
      as = stringToCharacters a; bs = stringToCharacters b;
      lb = length bs;
      row0 = genList (j: j) (lb + 1);
      step = prev: ca:
        let
          go = j: acc: left:
            if j > lb then acc
            else let
              v = lib.min (lib.min (elemAt prev j + 1) (left + 1))
                (elemAt prev (j - 1) + (if ca == elemAt bs (j - 1) then 0 else 1));
            in go (j + 1) (acc ++ [ v ]) v;
        in go 1 [ (head prev + 1) ] (head prev + 1);
    in lib.last (builtins.foldl' step row0 as);
  levenshteinAtMost = k: a: b: levenshtein a b <= k;
}
