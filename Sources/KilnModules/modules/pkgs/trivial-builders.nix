# pkgs.writeText and the other trivial builders of nixpkgs (pkgs/build-support/trivial-builders),
# with nixpkgs' arguments. Each makes a store object from text, links or the profile's
# files through `writeObject` (Kiln's primitive: { name; entries; } -> the object's store
# path, whose string context lets the plan gather it; WrittenObjects.swift). Every object is
# a folder: a builder whose nixpkgs result is a single file (writeText, writeScript,
# writeShellScript) gives the path of that file inside its object, so "${...}" names the
# file as in NixOS. Builders that run code (runCommand, mkDerivation) refuse with a reason:
# Kiln makes systems from Debian's binary packages and builds nothing from source. `refuse`
# throws as `throw` does, but the error points at the user's file that called the builder
# rather than at this one.
{ lib, writeObject, refuse }:
let
  inherit (builtins) isAttrs isList baseNameOf map;

  # What a builder returns: a derivation-like set. `kilnWrittenObject` is the object's root
  # (linked into the system path when listed in environment.systemPackages); `kilnEntries`
  # its entries (symlinkJoin merges them).
  object = name: root: outPath: entries: {
    type = "derivation";
    inherit name outPath;
    pname = name;
    kilnWrittenObject = root;
    kilnEntries = entries;
    outputs = [ "out" ];
    meta = { mainProgram = name; };
    passthru = { };
  };
  object' = name: root: outPath: entries: let o = object name root outPath entries; in o // { out = o; };

  relative = what: d: let r = lib.removePrefix "/" d; in
    if r == "" || lib.hasPrefix "/" r || lib.elem ".." (lib.splitString "/" r)
    then refuse "${what}: destination '${d}' must be a path inside the store object, such as \"/bin/NAME\""
    else r;

  writeTextFile = { name, text, executable ? false, destination ? "", checkPhase ? "", meta ? { }, allowSubstitutes ? false,
                    preferLocalBuild ? true, derivationArgs ? { }, ... }:
    let
      rel = if destination == "" then name else relative "pkgs.writeTextFile ${name}" destination;
      entries = [ { path = rel; inherit text executable; } ];
      root = writeObject { inherit name entries; };
      o = object' name root (if destination == "" then "${root}/${name}" else root) entries;
    in o // { meta = o.meta // meta; };

  shellScript = text: "#!/bin/bash\n${text}";

  # nixpkgs' writeShellApplication runs shellcheck at build time; Kiln checks nothing here
  # (no build step runs code), and the script's own `set` options are NixOS's.
  writeShellApplication = { name, text, runtimeInputs ? [ ], runtimeEnv ? null, meta ? { }, checkPhase ? null,
                            excludeShellChecks ? [ ], extraShellCheckFlags ? [ ], bashOptions ? [ "errexit" "nounset" "pipefail" ],
                            derivationArgs ? { }, inheritPath ? true, ... }:
    writeTextFile {
      inherit name meta;
      executable = true;
      destination = "/bin/${name}";
      text = ''
        #!/bin/bash
        ${lib.concatMapStrings (o: "set -o ${o}\n") bashOptions}
      '' + lib.optionalString (runtimeEnv != null)
        (lib.concatStrings (lib.mapAttrsToList (n: v: "export ${n}=${lib.escapeShellArg (toString v)}\n") runtimeEnv))
      + lib.optionalString (runtimeInputs != [ ])
        ''export PATH="${lib.makeBinPath runtimeInputs}${lib.optionalString inheritPath ":$PATH"}"
        ''
      + "\n" + text;
    };

  # The entries of symlinkJoin's `paths`: a written object's own (linked), else an error,
  # since a Debian package's files are not known while evaluating.
  joinedEntries = what: p:
    if isAttrs p && p ? kilnWrittenObject then
      map (e: { inherit (e) path; link = "${p.kilnWrittenObject}/${e.path}"; }) p.kilnEntries
    else if isAttrs p && p ? pname then
      refuse "${what}: pkgs.${p.pname} is a Debian package, whose files Kiln does not know while it evaluates; list it in environment.systemPackages instead (its files are then under /run/current-system/sw)"
    else refuse "${what}: ${lib.generators.toPretty { } p} is not something written by pkgs.write* or pkgs.symlinkJoin";

  noBuild = what: alternative: refuse "pkgs.${what}: Kiln does not build from source or run build steps; it makes systems from Debian's binary packages. ${alternative}";
  runAlternative = "Write files with pkgs.writeText, writeTextFile, writeShellScript(Bin) or writeShellApplication, or list a Debian package in environment.systemPackages.";
  noBuilder = what: _: noBuild what runAlternative;
in
rec {
  inherit writeTextFile writeShellApplication;

  writeText = name: text: writeTextFile { inherit name text; };
  writeTextDir = path: text: writeTextFile { name = baseNameOf path; inherit text; destination = "/${path}"; };
  writeScript = name: text: writeTextFile { inherit name text; executable = true; };
  writeScriptBin = name: text: writeTextFile { inherit name text; executable = true; destination = "/bin/${name}"; };
  writeShellScript = name: text: writeTextFile { inherit name; text = shellScript text; executable = true; };
  writeShellScriptBin = name: text:
    writeTextFile { inherit name; text = shellScript text; executable = true; destination = "/bin/${name}"; };

  writeStringReferencesToFile = noBuilder "writeStringReferencesToFile";

  symlinkJoin = args@{ name ? "${args.pname}-${args.version}", paths, postBuild ? "", ... }:
    let
      what = "pkgs.symlinkJoin ${name}";
      all = lib.concatMap (joinedEntries what) paths;
      # The first path that has an entry wins, as lndir leaves the first link in place.
      entries = builtins.attrValues (builtins.foldl' (acc: e: if acc ? ${e.path} then acc else acc // { ${e.path} = e; }) { } all);
      root = writeObject { inherit name entries; };
    in if postBuild != "" then noBuild "symlinkJoin (postBuild)" "Drop postBuild, or write the files it makes with pkgs.writeTextFile."
       else object' name root root entries;

  linkFarm = name: links:
    let
      list = if isList links then links else lib.mapAttrsToList (n: p: { name = n; path = p; }) links;
      entries = map (l: { path = relative "pkgs.linkFarm ${name}" l.name; link = "${l.path}"; }) list;
      root = writeObject { inherit name entries; };
    in object' name root root entries;

  linkFarmFromDrvs = name: drvs: linkFarm name (map (d: { name = d.name; path = d; }) drvs);

  runCommand = noBuilder "runCommand";
  runCommandLocal = noBuilder "runCommandLocal";
  runCommandNoCC = noBuilder "runCommandNoCC";
  runCommandCC = noBuilder "runCommandCC";
  stdenv = { mkDerivation = noBuilder "stdenv.mkDerivation"; };
  stdenvNoCC = { mkDerivation = noBuilder "stdenvNoCC.mkDerivation"; };
  # nixpkgs' buildEnv links the paths' files as symlinkJoin does (pathsToLink and the rest
  # only narrow or decorate that).
  buildEnv = { name, paths, ... }: symlinkJoin { inherit name paths; };
  callPackage = _: noBuild "callPackage" "Describe what the package provides with pkgs.write* or a Debian package.";
  fetchurl = noBuilder "fetchurl";
  fetchFromGitHub = noBuilder "fetchFromGitHub";
  fetchgit = noBuilder "fetchgit";
}
