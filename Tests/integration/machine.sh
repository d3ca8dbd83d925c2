# Sourced by the suites that boot images the way a user does (matrix.sh, cloud.sh) and check
# the machine from the host over SSH, as root, with the key "$work/key".

# ssh_to PORT COMMAND...: runs the command as root on the machine whose SSH port the host
# forwards from 127.0.0.1:PORT.
ssh_to() {
  local port=$1; shift
  ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 root@127.0.0.1 "$@"
}
# wait_ssh PORT LIMIT: until the machine takes the key, at most LIMIT seconds.
wait_ssh() {
  local t0=$(now)
  while [ "$(printf '%.0f' "$(echo "$(now) - $t0" | bc)")" -lt "$2" ]; do
    ssh_to "$1" true 2>/dev/null && return 0
    sleep 2
  done
  return 1
}
# reboot_and_wait PORT LIMIT: reboots the machine and waits, at most LIMIT seconds, until a
# new boot takes the key. A new boot is told by its boot_id: on a busy host the old system
# still answers SSH for a while as it shuts down.
#
# The firmware may stall after the guest's reset: once in a CI run, OVMF under TCG printed
# nothing for 420 s after the kernel's "reboot: machine restart" (thirteen reboots of the same
# machine in a row, and every other run, went through). Nothing of the image runs before
# the firmware's first output, so a machine the suite started with a monitor
# ("$work/monitor-PORT", its serial console at "$work/console-PORT") is reset by QEMU after
# 120 s of such silence, once per reboot, and the suite says so in a NOTE line.
reboot_and_wait() {
  local port=$1 limit=$2 boot1 boot2 t0=$SECONDS kicked=
  local console="$work/console-$port" monitor="$work/monitor-$port"
  boot1=$(ssh_to "$port" cat /proc/sys/kernel/random/boot_id)
  timeout 30 ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 root@127.0.0.1 systemctl reboot --no-block
  # Each try is bounded: a connection made while the old system goes down can hang (QEMU's
  # user network keeps its host side open when the guest vanishes).
  sleep 3
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    boot2=$(timeout 10 ssh -q -i "$work/key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=5 -o ServerAliveInterval=2 -o ServerAliveCountMax=2 root@127.0.0.1 cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)
    [ -n "$boot2" ] && [ "$boot2" != "$boot1" ] && return 0
    if [ -z "$kicked" ] && [ -S "$monitor" ] && [ -e "$console" ] \
       && [[ $(tail -c 100 "$console" | tr -d '\r' | tail -n 1) == *"reboot: machine restart" ]] \
       && [ $(( $(date +%s) - $(stat -L -c %Y "$console") )) -ge 120 ]; then
      kicked=1
      python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"system_reset\ncont\n"); s.recv(4096)' "$monitor"
      echo "NOTE the firmware showed nothing for 120 s after the guest's reset (port $port); QEMU reset the machine"
    fi
    sleep 3
  done
  return 1
}
# The start of a script run on the machine: t NAME COMMAND prints "ok NAME" or "no NAME",
# which the suite turns into PASS and FAIL lines.
remote_t='t() { if eval "$2" >/dev/null 2>&1; then echo "ok $1"; else echo "no $1"; fi; }'
