# The team's own little module: each job is a container run by the runner user, on a
# schedule, with a work folder kept on the host.
{ config, lib, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  cfg = config.ci;
in
{
  options.ci = {
    enable = mkEnableOption "the container jobs";
    user = mkOption { type = types.str; default = "runner"; description = "Who runs the jobs."; };
    image = mkOption { type = types.str; description = "The image every job runs in."; };
    jobs = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          script = mkOption { type = types.lines; description = "What the job runs, in /work."; };
          startAt = mkOption { type = types.nullOr types.str; default = null; description = "When it runs by itself."; };
        };
      });
      default = { };
      description = "Jobs, by name.";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.tmpfiles.rules = lib.mapAttrsToList (name: _: "d /var/lib/ci/${name} 0755 ${cfg.user} users -") cfg.jobs;
    systemd.services = lib.mapAttrs' (name: job: lib.nameValuePair "ci-job-${name}" {
      description = "CI job ${name}";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      startAt = lib.mkIf (job.startAt != null) job.startAt;
      serviceConfig = {
        Type = "oneshot";
        User = cfg.user;
      };
      script = ''
        exec docker run --rm --network none -v /var/lib/ci/${name}:/work -w /work ${cfg.image} sh -ec ${lib.escapeShellArg job.script}
      '';
    }) cfg.jobs;
  };
}
