# The life of a machine after its image (issue: generations), sourced by matrix.sh and run on
# a booted matrix machine, from the host, as a user runs Kiln: `kiln switch` to generation 2
# (a new package, a changed unit, a new service) over SSH, reboot into it, roll back;
# then on the x86_64 GRUB machine a trial generation whose boot fails falls back by itself,
# gc and a reboot after it, and the failures that need no reboot (refused, unknown host key,
# wrong architecture, a cut or damaged transfer, a full disk); on the aarch64 systemd-boot
# machine an activation that fails; on the x86_64 systemd-boot machine kiln killed in the
# middle of a copy, a trial that falls back by systemd-boot's boot counting (past a newer
# generation left by the rollback), and --generation N. Prints "ok NAME" / "no NAME" /
# TIMING lines.
# Uses matrix.sh's ssh_to, wait_ssh, now, since, runas, $work, $cache.
lifecycle() {
  local name=$1 port=$2 profile=$3 hw=$4
  local dir="$work/src/Tests/integration/matrix" out="$work/lifecycle-$name"
  local opts="-i $work/key.ci -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  local host="root@127.0.0.1:$port" t0 gen1 gen2 gen3 pid_demo pid_sshd hello
  mkdir -p "$out"; chmod 0777 "$out"
  t() { if eval "$2" >/dev/null 2>&1; then echo "ok $1"; else echo "no $1"; fi; }
  ks() { runas env KILN_CACHE_DIR="$cache" KILN_SSH_OPTS="$opts" "$work/bin/kiln" "$@"; }
  on() { ssh_to "$port" "$@" 2>/dev/null; }
  reboot_into() {  # waits for the machine's next boot; prints the booted generation's path
    reboot_and_wait "$port" 420 && on readlink -f /run/booted-system
  }
  # Each generation profile is the machine's profile plus the change.
  for g in 2 3; do
    printf '{ ... }: { imports = [ ./%s.nix ./lifecycle-gen%s.nix ]; }\n' "$profile" "$g" >"$dir/$profile-gen$g.nix"
  done
  chmod a+rw "$dir"/*.nix

  # ---- failures that change nothing (on the x86_64 GRUB machine only: they need no reboot, and
  # the aarch64 one's time goes to its boots)
  if [ "$name" = x86_64-grub-bios ]; then
  ks switch --rollback --target-host root@127.0.0.1:1 >"$out/refused.log" 2>&1
  t "kiln switch to a closed port says the connection was refused" "grep -q 'connection was refused' '$out/refused.log'"
  runas env KILN_SSH_OPTS="-i $work/key.ci -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null" \
    "$work/bin/kiln" switch --rollback --target-host "$host" >"$out/hostkey.log" 2>&1
  t "kiln switch to an unknown host key says how to trust it" "grep -q 'host key is not known' '$out/hostkey.log' && grep -q ssh-keyscan '$out/hostkey.log'"
  local other=aarch64; [ "$hw" = aarch64 ] && other=x86_64
  ks switch "$dir/$profile-gen2.nix" --hardware "qemu-$other" --target-host "$host" >"$out/arch.log" 2>&1
  t "kiln switch refuses a profile for another architecture" "grep -q 'is a system for $other' '$out/arch.log' && [ \"\$(ssh_to $port kiln-generations | wc -l)\" = 1 ]"

  # ---- transfers that must install nothing
    local reg0 fake="$work/fake-$name" base=00000000000000000000000000000000-kiln-fake
    reg0=$(on sha256sum /nix/var/kiln/registration)
    tar -cf - -C "$repo" README.md | head -c 3000 \
      | ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 kiln-receive >"$out/cut.log" 2>&1
    t "a transfer cut short installs nothing and leaves nothing behind" "grep -q 'cut short' '$out/cut.log' && [ \"\$(on sha256sum /nix/var/kiln/registration)\" = '$reg0' ] && [ -z \"\$(on ls -A /nix/store | grep kiln-incoming)\" ]"
    mkdir -p "$fake/$base" "$fake/.manifests"; chmod 0755 "$fake/$base"
    echo hi >"$fake/$base/f"; chmod 0644 "$fake/$base/f"
    printf 'kiln-manifest 1\npath /nix/store/%s\nd 0755 0 0 0 - .\nf 0644 0 0 4 %s f\n' "$base" "$(echo bye | sha256sum | cut -c1-64)" >"$fake/m"
    { cat "$fake/m"; echo "end $(sha256sum "$fake/m" | cut -c1-64)"; } >"$fake/.manifests/$base"
    tar -C "$fake" --owner=0 --group=0 --numeric-owner -cf - "$base" .manifests \
      | ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 kiln-receive >"$out/bad.log" 2>&1
    t "a store path whose file does not match its manifest is refused, and nothing installed" "grep -q 'nothing was installed' '$out/bad.log' && ! on test -e /nix/store/$base && [ \"\$(on sha256sum /nix/var/kiln/registration)\" = '$reg0' ]"
    # A machine without room: refused before anything is sent.
    on "fallocate -l \$(( \$(df -Pk /nix/store | awk 'NR == 2 { print \$4 }') * 1024 - 4194304 )) /var/kiln-fill"
    ks switch "$dir/$profile-gen2.nix" --hardware "qemu-$hw" --target-host "$host" >"$out/full.log" 2>&1
    t "a machine whose disk is full is refused before anything is sent" "grep -q 'free under /nix/store' '$out/full.log' && grep -q 'nothing was sent' '$out/full.log' && [ \"\$(on kiln-generations | wc -l)\" = 1 ]"
    on rm -f /var/kiln-fill
  fi

  # ---- generation 2
  gen1=$(on readlink -f /run/current-system)
  pid_demo=$(on systemctl show -p MainPID --value kiln-demo.service)
  pid_sshd=$(on systemctl show -p MainPID --value sshd.service)
  pid_keep=$(on systemctl show -p MainPID --value kiln-keep.service)
  local reg1; reg1=$(on grep -c . /nix/var/kiln/registration)
  t0=$(now)
  if ! ks switch "$dir/$profile-gen2.nix" --hardware "qemu-$hw" --target-host "$host" >"$out/switch2.log" 2>&1; then
    echo "no kiln switch to generation 2"; sed 's/^/    /' "$out/switch2.log" | tail -20; return
  fi
  echo "TIMING switch $name to generation 2 $(since "$t0") s ($(grep -o 'copying [0-9]* of [0-9]* store paths ([0-9.]* MiB)' "$out/switch2.log" | head -1))"
  echo "ok kiln switch to generation 2"
  gen2=$(on readlink -f /run/current-system)
  hello=$(on readlink -f /run/current-system/sw/bin/hello)
  local copied; copied=$(grep -o 'copying [0-9]* of' "$out/switch2.log" | head -1 | tr -dc 0-9)
  t "only the store paths the machine lacked were copied and registered ($copied)" "[ -n '$copied' ] && [ \"\$(on grep -c . /nix/var/kiln/registration)\" = \$(( $reg1 + $copied )) ]"
  t "the new package is there" "on command -v hello"
  t "the changed unit was restarted with its new environment" "[ \"\$(on systemctl show -p MainPID --value kiln-demo.service)\" != '$pid_demo' ] && on systemctl show -p Environment kiln-demo.service | grep -q GREETING=two"
  t "the switch said which units it stopped and started" "grep -q 'stopping the following units: kiln-demo.service' '$out/switch2.log' && grep -q 'starting the following units:.*kiln-demo2.service' '$out/switch2.log'"
  t "the new service runs, its script a store object the configuration wrote" "on systemctl is-active -q kiln-demo2.service && on \"systemctl show -p ExecStart kiln-demo2.service | grep -q '/nix/store/[a-z0-9]*-kiln-demo2/kiln-demo2'\""
  t "a changed unit with restartIfChanged = false kept its PID, and the switch said so" "[ \"\$(on systemctl show -p MainPID --value kiln-keep.service)\" = '$pid_keep' ] && grep -q 'left alone (restartIfChanged = false): kiln-keep.service' '$out/switch2.log'"
  t "an unchanged unit kept its PID (sshd)" "[ \"\$(on systemctl show -p MainPID --value sshd.service)\" = '$pid_sshd' ]"
  t "generation 2 is registered (system-2-link, system -> it)" "[ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-2-link ]"
  t "the store is read-only, and no store path is world-writable" "on findmnt -no OPTIONS /nix/store | grep -q '^ro' && [ -z \"\$(on find /nix/store -mindepth 1 -perm -0002 -not -type l -print -quit)\" ]"
  case $profile in
    *grub*) t "the boot menu lists both generations (grub.cfg)" "on \"grep -q 'generation 1 (' /boot/grub/grub.cfg\" && on \"grep -q 'generation 2 (' /boot/grub/grub.cfg\""
            t "the boot menu lists generation 2's specialisation (grub.cfg)" "on \"grep -q 'generation 2 (quiet)' /boot/grub/grub.cfg\"" ;;
    *) t "the boot menu lists both generations (systemd-boot entries)" "on test -f /boot/loader/entries/kiln-generation-1.conf -a -f /boot/loader/entries/kiln-generation-2.conf && on \"grep -qx 'default kiln-generation-2.conf' /boot/loader/loader.conf\""
       t "the boot menu lists generation 2's specialisation (systemd-boot entry)" "on \"grep -q 'generation 2 (quiet)' /boot/loader/entries/kiln-generation-2-quiet.conf\"" ;;
  esac
  if [ "$name" = x86_64-systemd-boot-ext4 ]; then
    t "the specialisation's own switch-to-configuration activates it, and the generation's activates it back" \
      "on '$gen2/specialisation/quiet/bin/switch-to-configuration test' && [ \"\$(on cat /etc/kiln-variant)\" = quiet ] && on '$gen2/bin/switch-to-configuration test' && ! on test -e /etc/kiln-variant"
  fi
  # A reboot into the new default: on the aarch64 systemd-boot machine (the x86_64 GRUB
  # machine's three reboots go to its trial, its fallback and gc below, which boot GRUB's
  # default entry after install-bootloader rewrote it; the x86_64 systemd-boot machine's to
  # its trial).
  local id1 hk1; id1=$(on cat /etc/machine-id); hk1=$(on cat /etc/ssh/ssh_host_ed25519_key.pub)
  if [ "$name" = aarch64-systemd-boot-ext4 ]; then
  t0=$(now)
  t "a reboot boots generation 2 (the default entry)" "[ \"\$(reboot_into)\" = '$gen2' ]"
  echo "TIMING reboot $name $(since "$t0") s"
  t "the machine-id is kept across a reboot" "[ -n '$id1' ] && [ \"\$(on cat /etc/machine-id)\" = '$id1' ]"
  t "the SSH host key is kept across a reboot" "[ -n '$hk1' ] && [ \"\$(on cat /etc/ssh/ssh_host_ed25519_key.pub)\" = '$hk1' ]"
  t "generation 2's package is there after the reboot" "on command -v hello"
  fi

  # ---- roll back
  ks switch --rollback --target-host "$host" >"$out/rollback.log" 2>&1
  t "kiln switch --rollback makes generation 1 current and stops the new service" "[ \"\$(on readlink -f /run/current-system)\" = '$gen1' ] && ! on systemctl is-active -q kiln-demo2.service && ! on command -v hello"

  case $profile in
    *grub*)
      # ---- a trial generation that fails falls back by itself
      if ks switch "$dir/$profile-gen3.nix" --boot --trial --hardware "qemu-$hw" --target-host "$host" >"$out/trial.log" 2>&1; then
        gen3=$(on readlink -f /nix/var/kiln/profiles/system-3-link)
        t "kiln switch --boot --trial leaves generation 1 the default" "[ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-1-link ] && on \"grep -q 'next_entry=kiln-generations>kiln-generation-3' /boot/grub/grubenv\""
        t0=$(now)
        t "the next boot is the trial generation's, once" "[ \"\$(reboot_into)\" = '$gen3' ]"
        echo "TIMING reboot $name $(since "$t0") s"
        t "the machine-id is kept across a reboot" "[ -n '$id1' ] && [ \"\$(on cat /etc/machine-id)\" = '$id1' ]"
        t "the SSH host key is kept across a reboot" "[ -n '$hk1' ] && [ \"\$(on cat /etc/ssh/ssh_host_ed25519_key.pub)\" = '$hk1' ]"
        t "the trial boot has a failed unit, and is not confirmed" "on systemctl is-failed -q kiln-broken.service && [ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-1-link ]"
        t "the boot after it is generation 1's again, by itself (rolled back)" "[ \"\$(reboot_into)\" = '$gen1' ] && ! on test -L /nix/var/kiln/trial"
      else
        echo "no kiln switch --boot --trial"; tail -5 "$out/trial.log"
      fi
      ;;
    x86_64-systemd-boot-ext4)
      # ---- kiln killed in the middle of sending a generation (kill -9 of kiln and its ssh, as
      # a lost terminal does): no new generation, nothing half-written, and the registration
      # names exactly the store paths there are (what did arrive whole may stay registered)
      local k pids consistent
      ks switch "$dir/$profile-gen3.nix" --hardware "qemu-$hw" --target-host "$host" >"$out/killed.log" 2>&1 &
      k=$!
      for i in $(seq 1200); do grep -q 'copying [0-9]* of' "$out/killed.log" 2>/dev/null && break; kill -0 $k 2>/dev/null || break; sleep 0.1; done
      pids=$(pgrep -f "bin/kiln switch $dir/$profile-gen3.nix")
      for p in $pids; do pkill -9 -P "$p"; done; kill -9 $pids 2>/dev/null; wait $k 2>/dev/null
      sleep 15
      consistent='[ -z "$(ls -A /nix/store | grep kiln-incoming)" ] && [ "$(tail -n +2 /nix/var/kiln/registration | cut -d" " -f1 | sort)" = "$(ls -d /nix/store/* | sort)" ]'
      t "kiln killed while it copies leaves the machine as it was: the same generations and current one, nothing half-written" \
        "grep -q 'copying [0-9]* of' '$out/killed.log' && [ \"\$(on kiln-generations | wc -l)\" = 2 ] && [ \"\$(on readlink -f /run/current-system)\" = '$gen1' ] && on '$consistent'"
      # ---- a trial that fails falls back by systemd-boot's boot counting, to generation 1
      # (the current one), not to generation 2 (newer, left by the rollback)
      if ks switch "$dir/$profile-gen3.nix" --boot --trial --hardware "qemu-$hw" --target-host "$host" >"$out/trial.log" 2>&1; then
        gen3=$(on readlink -f /nix/var/kiln/profiles/system-3-link)
        t "kiln switch --boot --trial (systemd-boot): one counted try for generation 3, the default a pattern, generation 1 still the profile" \
          "[ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-1-link ] && on test -f /boot/loader/entries/kiln-generation-3+1.conf && on \"grep -qx 'default kiln-generation-\\*' /boot/loader/loader.conf\" && on \"grep -qx 'sort-key kiln-other' /boot/loader/entries/kiln-generation-2.conf\""
        t "the next boot is the trial generation's (systemd-boot counted its try)" "[ \"\$(reboot_into)\" = '$gen3' ] && on test -f /boot/loader/entries/kiln-generation-3+0-1.conf"
        t "the trial boot has a failed unit, and is not confirmed" "on systemctl is-failed -q kiln-broken.service && [ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-1-link ]"
        t "the boot after it is generation 1's again, by itself, not generation 2's; the trial is forgotten" \
          "[ \"\$(reboot_into)\" = '$gen1' ] && ! on test -L /nix/var/kiln/trial && on \"grep -qx 'default kiln-generation-1.conf' /boot/loader/loader.conf\" && ! on \"ls /boot/loader/entries | grep -q +\""
      else
        echo "no kiln switch --boot --trial (systemd-boot)"; tail -5 "$out/trial.log"
      fi
      # ---- --generation N: back to generation 2, nothing built; as a user who is not root,
      # refused without --use-remote-sudo, done through sudo with it
      ks switch --generation 2 --target-host "deploy@127.0.0.1:$port" >"$out/notroot.log" 2>&1
      t "kiln switch as a user who is not root is refused, and says --use-remote-sudo" \
        "grep -q 'not as root' '$out/notroot.log' && grep -q -- --use-remote-sudo '$out/notroot.log' && [ \"\$(on readlink -f /run/current-system)\" = '$gen1' ]"
      ks switch --generation 2 --use-remote-sudo --target-host "deploy@127.0.0.1:$port" >"$out/generation.log" 2>&1
      t "kiln switch --generation 2 --use-remote-sudo (as deploy) makes generation 2 current and the boot default" \
        "[ \"\$(on readlink -f /run/current-system)\" = '$gen2' ] && on command -v hello && [ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-2-link ] && on \"grep -qx 'default kiln-generation-2.conf' /boot/loader/loader.conf\""
      return ;;
    *)
      # ---- an activation that fails: the previous generation stays the boot default
      ks switch "$dir/$profile-gen3.nix" --hardware "qemu-$hw" --target-host "$host" >"$out/fail.log" 2>&1
      local rc=$?
      t "a switch whose activation fails exits non-zero, names the failed unit, and leaves generation 1 the boot default" "[ $rc -ne 0 ] && grep -q 'kiln-broken.service' '$out/fail.log' && grep -q 'the boot default is still generation 1' '$out/fail.log' && [ \"\$(on readlink /nix/var/kiln/profiles/system)\" = system-1-link ] && on \"grep -qx 'default kiln-generation-1.conf' /boot/loader/loader.conf\""
      return ;;
  esac

  # ---- garbage: generation 1 is current and booted, the others go (x86_64)
  ks gc --delete-older-than 0d --target-host "$host" >"$out/gc.log" 2>&1
  t "kiln gc deletes the other generations and says what it freed" "grep -q 'deleted [1-9][0-9]* store paths, freed' '$out/gc.log' && [ \"\$(on kiln-generations | wc -l)\" = 1 ]"
  t "gc removed the deleted generations' own package" "[ -n '$hello' ] && ! on test -e '$hello'"
  t "gc kept generation 1 whole" "on test -x /run/current-system/sw/bin/bash && on test -e '$gen1/init'"
  t "the boot menu lists only generation 1 after gc" "on \"grep -q 'generation 1 (' /boot/grub/grub.cfg\" && ! on \"grep -q 'generation 2 (' /boot/grub/grub.cfg\""
  t "after gc, the machine still boots (generation 1)" "[ \"\$(reboot_into)\" = '$gen1' ]"
}
