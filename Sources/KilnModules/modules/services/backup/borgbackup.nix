# services.borgbackup.jobs (NixOS: nixos/modules/services/backup/borgbackup.nix): each job is
# borgbackup-job-<name>.service on a timer. It creates the repository on its first run
# (doInit), writes the archive under a ".failed" name and renames it once `borg create` has
# finished (so an interrupted run is visible as such), then prunes and compacts. Debian's
# borgbackup is 1.2, whose commands and flags these are.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  inherit (builtins) attrNames concatStringsSep toString;
  hostName = config.networking.hostName;
  jobs = config.services.borgbackup.jobs;
  isLocalPath = x: lib.hasPrefix "/" x;

  keepArgs = keep: concatStringsSep " " (map (k: "--keep-${k}=${toString keep.${k}}") (attrNames keep));

  script = name: cfg: ''
    on_exit() {
      exitStatus=$?
      ${cfg.postHook}
      exit $exitStatus
    }
    trap on_exit EXIT

    borgWrapper () {
      local result
      borg "$@" && result=$? || result=$?
      if [[ -z "${lib.optionalString cfg.failOnWarnings "1"}" ]] && [[ "$result" == 1 ]]; then
        echo "ignoring warning return value 1"
        return 0
      else
        return "$result"
      fi
    }

    archiveName="${if cfg.archiveBaseName == null then "" else cfg.archiveBaseName + "-"}$(date ${cfg.dateFormat})"
    archiveSuffix="${lib.optionalString cfg.appendFailedSuffix ".failed"}"
    ${cfg.preHook}
  '' + lib.optionalString cfg.doInit ''
    # the repository is created on the first run
    if ! borgWrapper list $extraArgs > /dev/null; then
      borgWrapper init $extraArgs --encryption ${cfg.encryption.mode} $extraInitArgs
      ${cfg.postInit}
    fi
  '' + ''
    (
      set -o pipefail
      ${lib.optionalString (cfg.dumpCommand != null) "${lib.escapeShellArg cfg.dumpCommand} | \\"}
      borgWrapper create $extraArgs \
        --compression ${lib.escapeShellArg cfg.compression} \
        --exclude-from /etc/borgbackup/${name}.exclude \
        $extraCreateArgs \
        "::$archiveName$archiveSuffix" \
        ${if cfg.paths == null then "-" else lib.escapeShellArgs cfg.paths}
    )
  '' + lib.optionalString cfg.appendFailedSuffix ''
    borgWrapper rename $extraArgs "::$archiveName$archiveSuffix" "$archiveName"
  '' + ''
    ${cfg.postCreate}
  '' + lib.optionalString (cfg.prune.keep != { }) ''
    borgWrapper prune $extraArgs \
      ${keepArgs cfg.prune.keep} \
      ${lib.optionalString (cfg.prune.prefix != null) "--glob-archives ${lib.escapeShellArg "${cfg.prune.prefix}*"}"} \
      $extraPruneArgs
    borgWrapper compact $extraArgs $extraCompactArgs
  '' + ''
    ${cfg.postPrune}
  '';

  home = cfg: if cfg.user == "root" then "/root" else config.users.users.${cfg.user}.home;

  service = name: cfg: {
    description = "BorgBackup job ${name}";
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ];
    inherit (cfg) startAt;
    environment = {
      BORG_REPO = cfg.repo;
      inherit (cfg) extraArgs extraInitArgs extraCreateArgs extraPruneArgs extraCompactArgs;
    } // lib.optionalAttrs (cfg.encryption.passCommand != null) {
      BORG_PASSCOMMAND = cfg.encryption.passCommand;
    } // lib.optionalAttrs (cfg.encryption.passphrase != null) {
      BORG_PASSPHRASE = cfg.encryption.passphrase;
    } // lib.optionalAttrs (!(cfg.environment ? BORG_RSH) && !isLocalPath cfg.repo) {
      BORG_RSH = "ssh -o StrictHostKeyChecking=accept-new";
    } // cfg.environment;
    script = script name cfg;
    serviceConfig = {
      Type = "oneshot";
      User = cfg.user;
      Group = cfg.group;
      CPUSchedulingPolicy = "idle";
      IOSchedulingClass = "idle";
      ProtectSystem = "strict";
      ReadWritePaths = [ "${home cfg}/.config/borg" "${home cfg}/.cache/borg" ]
        ++ cfg.readWritePaths
        ++ lib.optional (isLocalPath cfg.repo && !cfg.removableDevice) cfg.repo;
      PrivateTmp = cfg.privateTmp;
    };
  };

  jobOptions = { name, config, ... }: {
    options = {
      paths = mkOption {
        type = types.nullOr (types.coercedTo types.str lib.singleton (types.listOf types.str));
        default = null;
        description = "The paths backed up (null: dumpCommand's output is).";
      };
      dumpCommand = mkOption { type = types.nullOr types.path; default = null; description = "A program whose standard output is backed up as one file, instead of paths."; };
      repo = mkOption { type = types.str; description = "The repository: a local path or user@host:path."; };
      removableDevice = mkOption { type = types.bool; default = false; description = "Whether the repository is on a removable device (not made writable for the unit)."; };
      archiveBaseName = mkOption {
        type = types.nullOr types.str;
        default = "${hostName}-${name}";
        defaultText = lib.literalExpression ''"''${config.networking.hostName}-<name>"'';
        description = "The start of every archive's name; the date follows.";
      };
      dateFormat = mkOption { type = types.str; default = "+%Y-%m-%dT%H:%M:%S"; description = "date(1)'s format of the archive name's date."; };
      startAt = mkOption { type = types.either types.str (types.listOf types.str); default = "daily"; description = "When the job runs (systemd.time(7) calendar events; [ ] for never)."; };
      persistentTimer = mkOption { type = types.bool; default = false; description = "Whether a run missed while the machine was off happens at the next boot."; };
      user = mkOption { type = types.str; default = "root"; description = "The account the job runs as."; };
      group = mkOption { type = types.str; default = "root"; description = "The group the job runs as."; };
      encryption = {
        mode = mkOption {
          type = types.enum [ "repokey" "keyfile" "repokey-blake2" "keyfile-blake2" "authenticated" "authenticated-blake2" "none" ];
          description = "The repository's encryption (borg init --encryption).";
        };
        passCommand = mkOption { type = types.nullOr types.str; default = null; description = "A command printing the passphrase (BORG_PASSCOMMAND)."; };
        passphrase = mkOption { type = types.nullOr types.str; default = null; description = "The passphrase, as text (it lands in the unit: prefer passCommand)."; };
      };
      compression = mkOption { type = types.str; default = "lz4"; example = "auto,zstd,10"; description = "borg create --compression."; };
      exclude = mkOption { type = types.listOf types.str; default = [ ]; description = "Exclusion patterns (borg help patterns)."; };
      readWritePaths = mkOption { type = types.listOf types.path; default = [ ]; description = "Paths the job may write besides the repository and borg's own folders (the unit sees the rest read-only)."; };
      privateTmp = mkOption { type = types.bool; default = true; description = "Whether the job has a /tmp of its own."; };
      failOnWarnings = mkOption { type = types.bool; default = true; description = "Whether borg's warnings (exit status 1) fail the job."; };
      doInit = mkOption { type = types.bool; default = true; description = "Whether the repository is created when missing."; };
      appendFailedSuffix = mkOption { type = types.bool; default = true; description = "Whether an archive is written as <name>.failed and renamed when complete."; };
      prune.keep = mkOption {
        type = types.attrsOf (types.either types.int (types.strMatching "[[:digit:]]+[Hdwmy]"));
        default = { };
        example = { within = "1d"; daily = 7; weekly = 4; monthly = -1; };
        description = "How many archives of each period prune keeps (borg prune --keep-<period>); empty keeps all.";
      };
      prune.prefix = mkOption { type = types.nullOr types.str; default = config.archiveBaseName; defaultText = lib.literalExpression "archiveBaseName"; description = "Only archives whose name starts so are pruned (null: every archive)."; };
      environment = mkOption { type = types.attrsOf types.str; default = { }; description = "Environment of the job's commands (BORG_RSH, BORG_RELOCATED_REPO_ACCESS_IS_OK, ...)."; };
      preHook = mkOption { type = types.lines; default = ""; description = "Shell run before anything else."; };
      postInit = mkOption { type = types.lines; default = ""; description = "Shell run after the repository was created."; };
      postCreate = mkOption { type = types.lines; default = ""; description = "Shell run after the archive was written ($archiveName holds its name)."; };
      postPrune = mkOption { type = types.lines; default = ""; description = "Shell run after pruning."; };
      postHook = mkOption { type = types.lines; default = ""; description = "Shell run last, also on failure ($exitStatus holds the job's status)."; };
      extraArgs = mkOption { type = types.str; default = ""; description = "Arguments of every borg command."; };
      extraInitArgs = mkOption { type = types.str; default = ""; description = "Arguments of borg init."; };
      extraCreateArgs = mkOption { type = types.str; default = ""; description = "Arguments of borg create."; };
      extraPruneArgs = mkOption { type = types.str; default = ""; description = "Arguments of borg prune."; };
      extraCompactArgs = mkOption { type = types.str; default = ""; description = "Arguments of borg compact."; };
    };
  };
in
{
  options.services.borgbackup.jobs = mkOption {
    type = types.attrsOf (types.submodule jobOptions);
    default = { };
    example = lib.literalExpression ''
      { home = { paths = "/home"; repo = "/srv/borg"; encryption.mode = "none"; startAt = "daily"; }; }
    '';
    description = "Backup jobs, each a systemd service borgbackup-job-<name> on a timer.";
  };

  config = lib.mkIf (jobs != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList (name: cfg: [
      {
        assertion = cfg.encryption.mode == "none" || cfg.encryption.passCommand != null || cfg.encryption.passphrase != null;
        message = "services.borgbackup.jobs.${name}.encryption.mode is ${cfg.encryption.mode}: set encryption.passCommand or encryption.passphrase.";
      }
      {
        assertion = !(cfg.paths != null && cfg.dumpCommand != null);
        message = "services.borgbackup.jobs.${name}: paths and dumpCommand exclude each other.";
      }
    ]) jobs);
    environment.systemPackages = [ pkgs.borgbackup ];
    environment.etc = lib.mapAttrs' (name: cfg: lib.nameValuePair "borgbackup/${name}.exclude" {
      text = concatStringsSep "\n" cfg.exclude + "\n";
    }) jobs;
    systemd.tmpfiles.rules = lib.concatLists (lib.mapAttrsToList (name: cfg:
      [ "d ${home cfg}/.config/borg 0700 ${cfg.user} ${cfg.group} -"
        "d ${home cfg}/.cache/borg 0700 ${cfg.user} ${cfg.group} -" ]
      ++ lib.optional (isLocalPath cfg.repo && !cfg.removableDevice) "d ${cfg.repo} 0700 ${cfg.user} ${cfg.group} -") jobs);
    systemd.services = lib.mapAttrs' (name: cfg: lib.nameValuePair "borgbackup-job-${name}" (service name cfg)) jobs;
    systemd.timers = lib.mapAttrs' (name: cfg: lib.nameValuePair "borgbackup-job-${name}" {
      timerConfig.Persistent = cfg.persistentTimer;
    }) (lib.filterAttrs (_: cfg: cfg.persistentTimer && cfg.startAt != [ ]) jobs);
  };
}
