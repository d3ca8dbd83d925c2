# What every machine of the boot matrix has besides profiles/minimal.nix: SSH for root with
# the key matrix.sh makes (key.pub beside this file), so the matrix checks each machine from
# the host over QEMU's user network, as a user would. Only an ed25519 host key: generating
# NixOS's default RSA 4096 key costs 10-60 s under emulation on every first boot (the VM
# tests' SSH servers keep the defaults).
{ ... }:
{
  services.openssh.enable = true;
  services.openssh.hostKeys = [ { type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; } ];
  users.users.root.openssh.authorizedKeys.keyFiles = [ ./key.pub ];
  # A service the generations test changes (kiln switch must restart it) beside one it
  # leaves alone (sshd must keep its PID), and one it changes but must not restart
  # (restartIfChanged = false).
  systemd.services.kiln-demo = {
    wantedBy = [ "multi-user.target" ];
    environment.GREETING = "one";
    serviceConfig.ExecStart = "/run/current-system/sw/bin/sleep infinity";
  };
  systemd.services.kiln-keep = {
    wantedBy = [ "multi-user.target" ];
    restartIfChanged = false;
    environment.GREETING = "one";
    serviceConfig.ExecStart = "/run/current-system/sw/bin/sleep infinity";
  };
}
