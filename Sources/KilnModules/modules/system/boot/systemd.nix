# systemd units from options, as NixOS's nixos/modules/system/boot/systemd.nix:
# systemd.services / timers / sockets / targets.<name> become unit files under
# /etc/systemd/system, plus the `<target>.wants/` and `.requires/` links that wantedBy and
# requiredBy ask for (NixOS writes no [Install] sections; neither does Kiln). A service's
# script, preStart, ... run from generated files under /etc/kiln/unit-scripts, with bash
# and `set -e`, as NixOS runs them.
#
# Debian ships its own units in its packages (/lib/systemd/system); they are there at run
# time but never enabled, since maintainer scripts never run. Enable one by linking it into
# a target's .wants directory through environment.etc, or define it here: a definition
# becomes a whole unit file that takes the place of Debian's, or, with
# overrideStrategy = "asDropin", a drop-in (`<unit>.d/overrides.conf`) on top of it.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep concatMap filter isAttrs isString listToAttrs;
  slib = import ./systemd-lib.nix { inherit lib; };
  inherit (slib) unitOption section environmentLine;

  cfg = config.systemd;

  scriptPath = name: kind: "/etc/kiln/unit-scripts/${name}-${kind}";

  unitNames = description: mkOption {
    type = types.listOf types.str;
    default = [ ];
    inherit description;
  };

  # What every kind of unit has: the [Unit] section and how it is enabled.
  commonOptions = kind: {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether to generate this unit. `false` removes it (and its .wants links), which also
        takes away what other modules defined for it.
      '';
    };
    description = mkOption {
      type = types.str;
      default = "";
      description = "The unit's Description=.";
    };
    documentation = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "The unit's Documentation= URIs.";
    };
    wantedBy = unitNames "Units that want this one: a link in `<unit>.wants/` for each.";
    requiredBy = unitNames "Units that require this one: a link in `<unit>.requires/` for each.";
    after = unitNames "Units this one starts after (After=).";
    before = unitNames "Units this one starts before (Before=).";
    requires = unitNames "Units this one requires (Requires=).";
    wants = unitNames "Units this one wants (Wants=).";
    bindsTo = unitNames "Units this one is bound to (BindsTo=).";
    partOf = unitNames "Units this one is part of (PartOf=).";
    conflicts = unitNames "Units this one conflicts with (Conflicts=).";
    requisite = unitNames "Units that must already be active (Requisite=).";
    onFailure = unitNames "Units started when this one fails (OnFailure=).";
    unitConfig = mkOption {
      type = types.attrsOf unitOption;
      default = { };
      example = { DefaultDependencies = false; ConditionPathExists = "/etc/foo"; };
      description = "More settings of the [Unit] section.";
    };
    overrideStrategy = mkOption {
      type = types.enum [ "asDropinIfExists" "asDropin" ];
      default = "asDropinIfExists";
      description = ''
        How the definition is written. "asDropin" writes a drop-in
        `/etc/systemd/system/<name>.${kind}.d/overrides.conf` over the unit a Debian package
        ships; "asDropinIfExists" (the default) writes a whole unit file, since Kiln cannot
        see at evaluation time which units the packages ship.
      '';
    };
  };

  serviceOptions = { name, config, ... }: {
    options = commonOptions "service" // {
      environment = mkOption {
        type = types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.int ]));
        default = { };
        example = { LANG = "C.UTF-8"; };
        description = "Environment variables of the service's processes (Environment=, quoted for systemd).";
      };
      path = mkOption {
        type = types.listOf (types.either types.package types.str);
        default = [ ];
        description = ''
          Packages and directories for the service's PATH. A package is installed (added to
          environment.systemPackages) and found through the system's merged /usr; a
          directory string adds its bin and sbin subdirectories, as in NixOS.
        '';
      };
      script = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands (bash, `set -e`) run as the service's ExecStart.";
      };
      preStart = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run before the service starts (ExecStartPre).";
      };
      postStart = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run after the service started (ExecStartPost).";
      };
      reload = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands that reload the service (ExecReload).";
      };
      preStop = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run to stop the service (ExecStop).";
      };
      postStop = mkOption {
        type = types.lines;
        default = "";
        description = "Shell commands run after the service stopped (ExecStopPost).";
      };
      serviceConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
        example = { Type = "oneshot"; RemainAfterExit = true; ExecStart = "/usr/bin/true"; };
        description = "Settings of the [Service] section.";
      };
      startAt = mkOption {
        type = types.either types.str (types.listOf types.str);
        default = [ ];
        example = "daily";
        description = "When to start the service (OnCalendar= of a timer of the same name that this generates).";
      };
      restartIfChanged = mkOption {
        type = types.bool;
        default = true;
        description = "Whether switch-to-configuration restarts the service when its unit changed (X-RestartIfChanged).";
      };
      reloadIfChanged = mkOption {
        type = types.bool;
        default = false;
        description = "Whether switch-to-configuration reloads the service instead of restarting it when its unit changed (X-ReloadIfChanged).";
      };
      stopIfChanged = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Whether a changed service is stopped before /etc switches and started after it
          (true), or restarted once the new configuration is in place (false), as NixOS does.
        '';
      };
      restartTriggers = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
        description = "Values whose change restarts the service on a switch (their hash goes into the unit: X-Restart-Triggers).";
      };
      reloadTriggers = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
        description = "Values whose change reloads the service on a switch (X-Reload-Triggers).";
      };
    };
    config.serviceConfig = lib.mkMerge [
      (lib.mkIf (config.script != "") { ExecStart = scriptPath name "start"; })
      (lib.mkIf (config.preStart != "") { ExecStartPre = [ (scriptPath name "pre-start") ]; })
      (lib.mkIf (config.postStart != "") { ExecStartPost = [ (scriptPath name "post-start") ]; })
      (lib.mkIf (config.reload != "") { ExecReload = [ (scriptPath name "reload") ]; })
      (lib.mkIf (config.preStop != "") { ExecStop = [ (scriptPath name "pre-stop") ]; })
      (lib.mkIf (config.postStop != "") { ExecStopPost = [ (scriptPath name "post-stop") ]; })
    ];
  };

  timerOptions = { name, ... }: {
    options = commonOptions "timer" // {
      timerConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
        example = { OnCalendar = "daily"; Persistent = true; };
        description = "Settings of the [Timer] section.";
      };
    };
    config.wantedBy = lib.mkDefault [ "timers.target" ];
  };

  socketOptions = { name, ... }: {
    options = commonOptions "socket" // {
      listenStreams = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "0.0.0.0:993" "/run/my-socket" ];
        description = "ListenStream= addresses.";
      };
      listenDatagrams = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "ListenDatagram= addresses.";
      };
      socketConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
        description = "Settings of the [Socket] section.";
      };
    };
  };

  targetOptions = { name, ... }: { options = commonOptions "target"; };

  unitSection = u:
    let
      deps = key: list: lib.optionalString (list != [ ]) "${key}=${concatStringsSep " " list}\n";
    in
    "[Unit]\n"
    + lib.optionalString (u.description != "") "Description=${u.description}\n"
    + deps "Documentation" u.documentation
    + deps "After" u.after + deps "Before" u.before + deps "Requires" u.requires + deps "Wants" u.wants
    + deps "BindsTo" u.bindsTo + deps "PartOf" u.partOf + deps "Conflicts" u.conflicts
    + deps "Requisite" u.requisite + deps "OnFailure" u.onFailure
    + section u.unitConfig;

  servicePath = s:
    let dirs = concatMap (p: if isString p then [ "${p}/bin" "${p}/sbin" ] else [ ]) s.path;
    in concatStringsSep ":" (dirs ++ [ "/run/current-system/sw/bin" "/run/current-system/sw/sbin" ]);

  # What switch-to-configuration reads when it compares old and new units (as NixOS's).
  switchProperties = s:
    lib.optionalString (!s.restartIfChanged) "X-RestartIfChanged=false\n"
    + lib.optionalString s.reloadIfChanged "X-ReloadIfChanged=true\n"
    + lib.optionalString (!s.stopIfChanged) "X-StopIfChanged=false\n"
    + lib.optionalString (s.restartTriggers != [ ]) "X-Restart-Triggers=${builtins.hashString "sha256" (builtins.toJSON s.restartTriggers)}\n"
    + lib.optionalString (s.reloadTriggers != [ ]) "X-Reload-Triggers=${builtins.hashString "sha256" (builtins.toJSON s.reloadTriggers)}\n";

  serviceText = name: s:
    unitSection s + switchProperties s + "\n[Service]\n"
    + concatStringsSep "" (map (k: environmentLine k (toString s.environment.${k}))
        (filter (k: s.environment.${k} != null) (attrNames s.environment)))
    + lib.optionalString (s.path != [ ]) (environmentLine "PATH" (servicePath s))
    + section s.serviceConfig;

  timerText = name: t: unitSection t + "\n[Timer]\n" + section t.timerConfig;

  socketText = name: s: unitSection s + "\n[Socket]\n"
    + concatStringsSep "" (map (a: "ListenStream=${a}\n") s.listenStreams)
    + concatStringsSep "" (map (a: "ListenDatagram=${a}\n") s.listenDatagrams)
    + section s.socketConfig;

  targetText = name: t: unitSection t;

  enabledOf = units: filter (n: units.${n}.enable) (attrNames units);

  # The /etc entries of one kind of unit: the unit files (or drop-ins) and their links.
  unitFiles = kind: units: render: concatMap (name:
    let
      u = units.${name};
      unit = "${name}.${kind}";
      dropin = u.overrideStrategy == "asDropin";
      link = dir: {
        name = "systemd/system/${dir}/${unit}";
        # A drop-in's unit is Debian's; a generated one sits beside the link's directory.
        value.source = if dropin then "/lib/systemd/system/${unit}" else "../${unit}";
      };
    in
    [ {
      name = if dropin then "systemd/system/${unit}.d/overrides.conf" else "systemd/system/${unit}";
      value.text = render name u;
    } ]
    ++ map (t: link "${t}.wants") u.wantedBy
    ++ map (t: link "${t}.requires") u.requiredBy
  ) (enabledOf units);

  scriptFiles = name: s: concatMap (kind:
    let text = s.${kind.option}; in
    lib.optional (text != "") {
      name = "kiln/unit-scripts/${name}-${kind.file}";
      value = { text = "#!/bin/bash\nset -e\n${text}\n"; mode = "0755"; };
    })
    [ { option = "script"; file = "start"; } { option = "preStart"; file = "pre-start"; }
      { option = "postStart"; file = "post-start"; } { option = "reload"; file = "reload"; }
      { option = "preStop"; file = "pre-stop"; } { option = "postStop"; file = "post-stop"; } ];

  enabledServices = enabledOf cfg.services;
  managerConf = let w = cfg.watchdog; in
    lib.optionalString (w.device != null) "WatchdogDevice=${w.device}\n"
    + lib.optionalString (w.runtimeTime != null) "RuntimeWatchdogSec=${w.runtimeTime}\n"
    + lib.optionalString (w.rebootTime != null) "RebootWatchdogSec=${w.rebootTime}\n"
    + lib.optionalString (w.kexecTime != null) "KExecWatchdogSec=${w.kexecTime}\n"
    + cfg.extraConfig;
in
{
  options.systemd = {
    services = mkOption {
      type = types.attrsOf (types.submodule serviceOptions);
      default = { };
      description = "systemd services: `<name>.service` under /etc/systemd/system.";
    };
    timers = mkOption {
      type = types.attrsOf (types.submodule timerOptions);
      default = { };
      description = "systemd timers: `<name>.timer`, wanted by timers.target unless wantedBy says otherwise.";
    };
    sockets = mkOption {
      type = types.attrsOf (types.submodule socketOptions);
      default = { };
      description = "systemd sockets: `<name>.socket`.";
    };
    targets = mkOption {
      type = types.attrsOf (types.submodule targetOptions);
      default = { };
      description = "systemd targets: `<name>.target`.";
    };
    extraConfig = mkOption {
      type = types.lines;
      default = "";
      example = "DefaultTimeoutStopSec=10s";
      description = "[Manager] settings of systemd itself (systemd-system.conf(5)), in /etc/systemd/system.conf.d/kiln.conf.";
    };
    watchdog = {
      device = mkOption { type = types.nullOr types.path; default = null; example = "/dev/watchdog"; description = "The hardware watchdog systemd feeds (null: systemd's default, /dev/watchdog0)."; };
      runtimeTime = mkOption { type = types.nullOr types.str; default = null; example = "30s"; description = "How long the machine may hang before the watchdog resets it (null: no watchdog)."; };
      rebootTime = mkOption { type = types.nullOr types.str; default = null; example = "10m"; description = "How long a reboot may take before the watchdog forces it (null: systemd's default)."; };
      kexecTime = mkOption { type = types.nullOr types.str; default = null; example = "10m"; description = "How long a kexec may take before the watchdog resets (null: systemd's default)."; };
    };
    packages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = ''
        Packages whose units systemd should find. Debian's packages keep theirs in
        /lib/systemd/system, which systemd reads already, so this only installs them.
      '';
    };
  };

  config = {
    systemd.timers = listToAttrs (concatMap (name:
      let s = cfg.services.${name}; at = if isString s.startAt then [ s.startAt ] else s.startAt; in
      lib.optional (at != [ ]) {
        inherit name;
        value = { wantedBy = [ "timers.target" ]; timerConfig.OnCalendar = at; };
      }) enabledServices);

    environment.systemPackages = cfg.packages
      ++ concatMap (n: filter isAttrs cfg.services.${n}.path) enabledServices;

    environment.etc = listToAttrs (
      [ {
        # Units are enabled by the configuration's .wants links, never by their [Install]
        # sections: on the first boot (no machine-id yet) systemd would apply the presets
        # (Debian's say "enable *") to every unit the packages ship, e.g. openssh-server's
        # ssh.service beside Kiln's sshd.service. This file comes first and says no.
        name = "systemd/system-preset/00-kiln.preset";
        value.text = "# Generated by Kiln: units are enabled by the configuration, not by presets.\ndisable *\n";
      } ]
      ++ unitFiles "service" cfg.services serviceText
      ++ concatMap (n: scriptFiles n cfg.services.${n}) enabledServices
      ++ unitFiles "timer" cfg.timers timerText
      ++ unitFiles "socket" cfg.sockets socketText
      ++ unitFiles "target" cfg.targets targetText
      ++ lib.optional (managerConf != "") {
        name = "systemd/system.conf.d/kiln.conf";
        value.text = "# Generated by Kiln from systemd.watchdog and systemd.extraConfig.\n[Manager]\n" + managerConf;
      });
  };
}
