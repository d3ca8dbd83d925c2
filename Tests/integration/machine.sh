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
# The start of a script run on the machine: t NAME COMMAND prints "ok NAME" or "no NAME",
# which the suite turns into PASS and FAIL lines.
remote_t='t() { if eval "$2" >/dev/null 2>&1; then echo "ok $1"; else echo "no $1"; fi; }'
