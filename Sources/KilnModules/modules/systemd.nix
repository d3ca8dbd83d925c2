# systemd.services.<name> → unit files under /etc/systemd/system, and the .wants links
# their wantedBy asks for. A service's script runs from a generated file beside the units.
{ config, lib, ... }:
let
  inherit (builtins) attrNames concatStringsSep concatMap isList isBool isAttrs toString;
  services = config.systemd.services or { };
  enabled = builtins.filter (n: services.${n}.enable or true) (attrNames services);

  value = v: if isBool v then (if v then "true" else "false") else toString v;
  section = attrs: concatStringsSep "" (concatMap (k:
    let v = attrs.${k}; in if isList v then map (x: "${k}=${value x}\n") v else [ "${k}=${value v}\n" ]) (attrNames attrs));
  deps = s: key: field: lib.optionalString ((s.${field} or [ ]) != [ ]) "${key}=${concatStringsSep " " s.${field}}\n";
  scriptPath = name: kind: "/etc/kiln/unit-scripts/${name}-${kind}";

  unitText = name: s: ''
    [Unit]
    Description=${s.description or name}
    ${deps s "After" "after"}${deps s "Before" "before"}${deps s "Requires" "requires"}${deps s "Wants" "wants"}${section (s.unitConfig or { })}
    [Service]
    ${concatStringsSep "" (map (k: "Environment=\"${k}=${value s.environment.${k}}\"\n") (attrNames (s.environment or { })))}${lib.optionalString (s ? preStart) "ExecStartPre=${scriptPath name "pre-start"}\n"}${lib.optionalString (s ? script) "ExecStart=${scriptPath name "start"}\n"}${section (s.serviceConfig or { })}
  '';

  script = name: kind: text: {
    name = "kiln/unit-scripts/${name}-${kind}";
    value = { text = "#!/bin/sh\nset -e\n${text}\n"; mode = "0755"; };
  };
in
{
  environment.etc = builtins.listToAttrs (concatMap (name:
    let s = services.${name}; in
    [ { name = "systemd/system/${name}.service"; value = { text = unitText name s; }; } ]
    ++ lib.optional (s ? script) (script name "start" s.script)
    ++ lib.optional (s ? preStart) (script name "pre-start" s.preStart)
    ++ map (t: { name = "systemd/system/${t}.wants/${name}.service"; value = { source = "../${name}.service"; }; }) (s.wantedBy or [ ])
  ) enabled);
}
