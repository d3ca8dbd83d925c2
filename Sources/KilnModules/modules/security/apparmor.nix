# security.apparmor (NixOS: nixos/modules/security/apparmor.nix): AppArmor with the policies
# the configuration declares, loaded into the kernel by apparmor.service before sysinit.target
# as NixOS loads them, each enforcing, complaining or left out. Only these are loaded: the
# profiles Debian's packages put in /etc/apparmor.d (named's, for one) assume Debian's own
# paths, and Debian's apparmor.service, which would load them all, stays disabled. As on
# NixOS, a program's file is in the store (/usr/bin/cat resolves to /nix/store/…), so a
# profile attaches to and allows store paths, not Debian's /usr ones. Policies
# and includes are written into /etc/apparmor.d beside Debian's abstractions and tunables,
# which they include as on Debian. `packages` is accepted: a Debian package's profiles are
# already in /etc/apparmor.d, so there is no include path to add.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.security.apparmor;
  loaded = lib.filterAttrs (_: p: p.state != "disable") cfg.policies;
  parse = verb: name: p:
    "/usr/sbin/apparmor_parser ${verb} --verbose --show-cache ${lib.optionalString (p.state == "complain") "--complain "}${toString p.path}";
  policyFile = name: p: lib.optionalAttrs (p.profile != null) { "apparmor.d/${name}".text = p.profile; };
in
{
  options.security.apparmor = {
    enable = lib.mkEnableOption "the AppArmor mandatory access control system (a reboot activates it in the kernel)";
    policies = mkOption {
      default = { };
      description = "AppArmor policies, each loaded into the kernel in its state.";
      type = types.attrsOf (types.submodule ({ name, config, ... }: {
        options = {
          state = mkOption { type = types.enum [ "disable" "complain" "enforce" ]; default = "enforce"; description = "Whether the policy is enforced, only logs what it would deny (complain), or is not loaded."; };
          profile = mkOption { type = types.nullOr types.lines; default = null; description = "The policy's text (written to /etc/apparmor.d/«name»)."; };
          path = mkOption {
            type = types.nullOr types.path;
            default = if config.profile != null then "/etc/apparmor.d/${name}" else null;
            defaultText = lib.literalExpression ''"/etc/apparmor.d/«name»" when profile is set'';
            description = "The file the policy is loaded from.";
          };
        };
      }));
    };
    includes = mkOption { type = types.attrsOf types.lines; default = { }; description = "Files for the policies' include directives, written to /etc/apparmor.d/«name»."; };
    packages = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages whose profiles and abstractions the policies include (installed; Debian puts them in /etc/apparmor.d already)."; };
    enableCache = lib.mkEnableOption "caching of compiled policies in /var/cache/apparmor";
    killUnconfinedConfinables = mkOption { type = types.bool; default = true; description = "Whether processes that a loaded policy would confine but that started before it are killed, so that they restart confined."; };
  };

  config = lib.mkIf cfg.enable {
    assertions = lib.concatLists (lib.mapAttrsToList (name: p: [
      {
        assertion = builtins.match ".*/.*" name == null;
        message = "security.apparmor.policies.\"${name}\": the name must not contain a slash.";
      }
      {
        assertion = p.state == "disable" || p.path != null;
        message = "security.apparmor.policies.\"${name}\": set profile (the policy's text) or path (its file).";
      }
    ]) cfg.policies);
    environment.systemPackages = [ pkgs.apparmor ] ++ cfg.packages;
    environment.etc = lib.mkMerge (lib.mapAttrsToList policyFile cfg.policies
      ++ lib.mapAttrsToList (name: text: { "apparmor.d/${name}".text = text; }) cfg.includes
      ++ [ {
        "apparmor/parser.conf".text = ''
          ${if cfg.enableCache then "write-cache" else "skip-cache"}
          cache-loc /var/cache/apparmor
          Include /etc/apparmor.d
        '';
      } ]);
    boot.kernelParams = [ "apparmor=1" "security=apparmor" ];
    systemd.services.apparmor = {
      description = "Load AppArmor policies";
      after = [ "local-fs.target" "systemd-journald-audit.socket" ];
      before = [ "sysinit.target" ];
      wantedBy = [ "multi-user.target" ];
      unitConfig = { DefaultDependencies = false; ConditionSecurity = "apparmor"; };
      # Reloading replaces the policies without restarting the services that require them.
      reloadIfChanged = true;
      restartTriggers = [ (builtins.toJSON (lib.mapAttrs (_: p: { inherit (p) state profile; path = toString p.path; }) cfg.policies)) ];
      path = lib.optionals cfg.killUnconfinedConfinables [ pkgs.apparmor pkgs.jq pkgs.findutils pkgs.procps ];
      postStart = lib.optionalString cfg.killUnconfinedConfinables ''
        aa-status --json | jq -r '.processes | .[] | .[] | select(.status == "unconfined") | .pid' \
          | xargs --verbose --no-run-if-empty kill
      '';
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStartPre = "/usr/sbin/aa-teardown";
        ExecStart = lib.mapAttrsToList (parse "--add") loaded;
        ExecReload = lib.mapAttrsToList (parse "--replace") loaded ++ [ "/usr/sbin/aa-remove-unknown" ];
        ExecStop = "/usr/sbin/aa-teardown";
        CacheDirectory = [ "apparmor" ];
        CacheDirectoryMode = "0700";
      };
    };
  };
}
