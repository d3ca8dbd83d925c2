# A trial boot that rolls back by itself (`kiln switch --boot --trial`): the new generation
# is named by /nix/var/kiln/trial and boots once (GRUB's next_entry, systemd-boot's boot
# counting). This unit, in every generation, confirms it: once multi-user.target is reached
# with no failed unit, the trial generation becomes the system profile and the boot
# default. If the trial boot fails, nothing confirms it, and the next boot is the previous
# generation's, whose copy of this unit then forgets the trial.
{ ... }:
{
  systemd.services.kiln-trial-confirm = {
    description = "Confirm or forget a trial generation";
    wantedBy = [ "multi-user.target" ];
    after = [ "multi-user.target" ];
    # The link names system-N-link, relative to the profiles folder: it dangles from here.
    unitConfig.ConditionPathIsSymbolicLink = "/nix/var/kiln/trial";
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
    script = ''
      profiles=/nix/var/kiln/profiles
      link=$(readlink /nix/var/kiln/trial)
      trial=$(readlink -f "$profiles/$link")
      booted=$(readlink -f /run/booted-system)
      if [ "$trial" != "$booted" ]; then
        echo "the trial generation ($link) did not boot to the end: the machine runs $booted; forgetting the trial"
        rm -f /nix/var/kiln/trial
        exec "$booted/bin/install-bootloader"
      fi
      failed=$(systemctl list-units --failed --no-legend --plain | cut -d' ' -f1 | grep -v '^kiln-trial-confirm.service$' || true)
      if ! systemctl is-active -q multi-user.target || [ -n "$failed" ]; then
        echo "the trial generation ($link) is not healthy (failed: ''${failed:-multi-user.target}): not confirmed; the next boot returns to the previous generation"
        exit 0
      fi
      ln -sfn "$link" "$profiles/.system.tmp-$$"
      mv -fT "$profiles/.system.tmp-$$" "$profiles/system"
      rm -f /nix/var/kiln/trial
      "$booted/bin/install-bootloader"
      echo "trial generation $link confirmed: it is the system and the boot default now"
    '';
  };
}
