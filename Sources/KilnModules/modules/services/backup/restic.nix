# services.restic.backups (NixOS: nixos/modules/services/backup/restic.nix): each backup is
# restic-backups-<name>.service on a timer, as NixOS writes it: the paths (and what
# dynamicFilesFrom prints) are gathered in the unit's runtime folder and passed with
# --files-from, the repository is created on the first run when `initialize` says so, and
# forget --prune and check follow. Debian's restic is 0.14, whose commands these are. The
# exclude and path lists NixOS keeps in its store are files in /etc/restic here.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption optionalString concatStringsSep;
  backups = config.services.restic.backups;

  backupOptions = { name, config, ... }: {
    options = {
      passwordFile = mkOption { type = types.str; example = "/etc/nixos/restic-password"; description = "The file holding the repository's password (RESTIC_PASSWORD_FILE)."; };
      environmentFile = mkOption { type = types.nullOr types.str; default = null; description = "A file of KEY=value lines for the unit (cloud credentials: AWS_ACCESS_KEY_ID, B2_ACCOUNT_KEY …)."; };
      repository = mkOption { type = types.nullOr types.str; default = null; example = "sftp:backup@host:/backups/home"; description = "The repository (RESTIC_REPOSITORY): a path or a restic URL."; };
      repositoryFile = mkOption { type = types.nullOr types.path; default = null; description = "A file naming the repository (RESTIC_REPOSITORY_FILE), instead of repository."; };
      paths = mkOption { type = types.listOf types.str; default = [ ]; example = [ "/var/lib/postgresql" "/home/user/backup" ]; description = "What is backed up (with dynamicFilesFrom; neither: the unit only prunes and checks)."; };
      exclude = mkOption { type = types.listOf types.str; default = [ ]; example = [ "/var/cache" "/home/*/.cache" ]; description = "Patterns not backed up (--exclude-file)."; };
      dynamicFilesFrom = mkOption { type = types.nullOr types.str; default = null; example = "find /home/matt/git -type d -name .git"; description = "Shell whose output lines are backed up too."; };
      timerConfig = mkOption {
        type = types.nullOr (types.attrsOf (types.oneOf [ types.str types.bool types.int (types.listOf types.str) ]));
        default = { OnCalendar = "daily"; Persistent = true; };
        description = "The [Timer] section of restic-backups-<name>.timer; null: no timer (started by hand).";
      };
      user = mkOption { type = types.str; default = "root"; description = "The account the backup runs as."; };
      extraBackupArgs = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--cleanup-cache" "--exclude-caches" ]; description = "More arguments of restic backup."; };
      extraOptions = mkOption { type = types.listOf types.str; default = [ ]; example = [ "sftp.command='ssh backup@host -i /etc/nixos/secrets/backup-private-key -s sftp'" ]; description = "Extended options (-o) of every restic command."; };
      initialize = mkOption { type = types.bool; default = false; description = "Whether the repository is created when it does not exist yet."; };
      pruneOpts = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--keep-daily 7" "--keep-weekly 5" "--keep-monthly 12" ]; description = "Arguments of restic forget --prune after the backup (empty: nothing is forgotten)."; };
      runCheck = mkOption {
        type = types.bool;
        default = config.checkOpts != [ ] || config.pruneOpts != [ ];
        defaultText = lib.literalExpression "checkOpts != [ ] || pruneOpts != [ ]";
        description = "Whether restic check runs after the backup.";
      };
      checkOpts = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--with-cache" ]; description = "Arguments of restic check."; };
      backupPrepareCommand = mkOption { type = types.nullOr types.str; default = null; description = "Shell run before the backup (a database dump)."; };
      backupCleanupCommand = mkOption { type = types.nullOr types.str; default = null; description = "Shell run after the backup, also after a failure."; };
      package = mkOption { type = types.package; default = pkgs.restic; defaultText = lib.literalExpression "pkgs.restic"; description = "The restic package."; };
    };
  };

  service = name: b:
    let
      restic = "/usr/bin/restic" + lib.concatMapStrings (o: " -o ${o}") b.extraOptions;
      filesFrom = "/run/restic-backups-${name}/includes";
      doBackup = b.dynamicFilesFrom != null || b.paths != [ ];
    in
    {
      description = "restic backup ${name}";
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      restartIfChanged = false;
      environment = {
        # %C of a system unit: Kiln writes Environment= values literally (% doubled).
        RESTIC_CACHE_DIR = "/var/cache/restic-backups-${name}";
        RESTIC_PASSWORD_FILE = b.passwordFile;
      } // lib.optionalAttrs (b.repository != null) { RESTIC_REPOSITORY = b.repository; }
        // lib.optionalAttrs (b.repositoryFile != null) { RESTIC_REPOSITORY_FILE = toString b.repositoryFile; };
      path = [ pkgs.openssh-client ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = lib.optional doBackup ("${restic} backup "
            + concatStringsSep " " (b.extraBackupArgs ++ lib.optional (b.exclude != [ ]) "--exclude-file=/etc/restic/${name}.exclude")
            + " --files-from=${filesFrom}")
          ++ lib.optional (b.pruneOpts != [ ]) "${restic} forget --prune ${concatStringsSep " " b.pruneOpts}"
          ++ lib.optional b.runCheck "${restic} check ${concatStringsSep " " b.checkOpts}";
        User = b.user;
        RuntimeDirectory = "restic-backups-${name}";
        CacheDirectory = "restic-backups-${name}";
        CacheDirectoryMode = "0700";
        PrivateTmp = true;
      } // lib.optionalAttrs (b.environmentFile != null) { EnvironmentFile = b.environmentFile; };
      preStart = optionalString (b.backupPrepareCommand != null) ''
        ${b.backupPrepareCommand}
      '' + optionalString b.initialize ''
        ${restic} snapshots > /dev/null || ${restic} init
      '' + optionalString (b.paths != [ ]) ''
        cat /etc/restic/${name}.paths >> ${filesFrom}
      '' + optionalString (b.dynamicFilesFrom != null) ''
        ( ${b.dynamicFilesFrom} ) >> ${filesFrom}
      '';
      postStop = optionalString (b.backupCleanupCommand != null) ''
        ${b.backupCleanupCommand}
      '' + optionalString doBackup ''
        rm -f ${filesFrom}
      '';
    };
in
{
  options.services.restic.backups = mkOption {
    type = types.attrsOf (types.submodule backupOptions);
    default = { };
    example = lib.literalExpression ''
      { localbackup = { paths = [ "/home" ]; repository = "/mnt/backup-hdd"; passwordFile = "/etc/nixos/secrets/restic-password"; initialize = true; }; }
    '';
    description = "Periodic backups with restic, each restic-backups-<name>.service on a timer.";
  };

  config = lib.mkIf (backups != { }) {
    assertions = lib.mapAttrsToList (name: b: {
      assertion = (b.repository == null) != (b.repositoryFile == null);
      message = "services.restic.backups.${name}: set exactly one of repository and repositoryFile.";
    }) backups;
    environment.systemPackages = lib.unique (lib.mapAttrsToList (_: b: b.package) backups);
    environment.etc = lib.listToAttrs (lib.concatLists (lib.mapAttrsToList (name: b:
      lib.optional (b.paths != [ ]) (lib.nameValuePair "restic/${name}.paths" { text = concatStringsSep "\n" b.paths + "\n"; })
      ++ lib.optional (b.exclude != [ ]) (lib.nameValuePair "restic/${name}.exclude" { text = concatStringsSep "\n" b.exclude + "\n"; }))
      backups));
    systemd.services = lib.mapAttrs' (name: b: lib.nameValuePair "restic-backups-${name}" (service name b)) backups;
    systemd.timers = lib.mapAttrs' (name: b: lib.nameValuePair "restic-backups-${name}" {
      wantedBy = [ "timers.target" ];
      timerConfig = b.timerConfig;
    }) (lib.filterAttrs (_: b: b.timerConfig != null) backups);
  };
}
