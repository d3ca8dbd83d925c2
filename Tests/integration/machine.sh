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
reboot_and_wait() {
  local port=$1 limit=$2 boot1 boot2 t0=$SECONDS
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
    sleep 3
  done
  return 1
}
# The start of a script run on the machine: t NAME COMMAND prints "ok NAME" or "no NAME",
# which the suite turns into PASS and FAIL lines.
remote_t='t() { if eval "$2" >/dev/null 2>&1; then echo "ok $1"; else echo "no $1"; fi; }'
