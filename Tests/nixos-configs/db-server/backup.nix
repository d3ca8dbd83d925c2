# The site's backup policy as a module of its own: what to keep and for how long, in options
# a host sets; one Borg repository per host, encrypted with a key kept on the machine.
{ config, lib, ... }:

let
  cfg = config.site.backup;
in
{
  options.site.backup = {
    enable = lib.mkEnableOption "the site's nightly Borg backup";
    paths = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      description = "What is backed up.";
    };
    repo = lib.mkOption {
      type = lib.types.str;
      default = "/srv/borg/${config.networking.hostName}";
      description = "The Borg repository.";
    };
    keepDaily = lib.mkOption {
      type = lib.types.ints.positive;
      default = 14;
      description = "How many daily archives are kept.";
    };
  };

  config = lib.mkIf cfg.enable {
    services.borgbackup.jobs.nightly = {
      inherit (cfg) paths repo;
      encryption = {
        mode = "repokey-blake2";
        passCommand = "cat /var/lib/borg-passphrase";
      };
      compression = "auto,zstd";
      exclude = [ "*.in-progress" ];
      # after the database dumps of the night
      startAt = "*-*-* 02:00:00";
      persistentTimer = true;
      prune.keep = {
        daily = cfg.keepDaily;
        weekly = 4;
        monthly = -1;
      };
      preHook = ''
        if [ ! -s /var/lib/borg-passphrase ]; then
          (umask 077; head -c 32 /dev/urandom | base64 > /var/lib/borg-passphrase)
        fi
      '';
      # Borg keeps a whole segment's room free (500 MB by default): too much for this disk.
      postInit = ''
        borg config "$BORG_REPO" max_segment_size 52428800
      '';
      readWritePaths = [ "/var/lib" ];
    };
  };
}
