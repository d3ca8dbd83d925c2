# The smallest test: the machine reaches multi-user.target and no unit failed; the backdoor's
# commands keep bytes and exit codes; reboot, crash and shutdown behave as in the NixOS driver,
# and a machine started again has the disk it left.
{
  name = "boot";
  nodes.machine = { pkgs, ... }: {
    users.users.root.initialPassword = "kiln";
  };
  testScript = ''
    machine.start()
    # The backdoor answers long before the boot is done.
    machine.succeed("true")
    machine.wait_for_unit("multi-user.target")
    with subtest("no failed units"):
        status, out = machine.systemctl("list-units --failed --no-legend --plain")
        assert status == 0
        assert out.strip() == "", f"failed units: {out}"
    with subtest("commands, output and exit status"):
        assert "Linux" in machine.succeed("uname -s")
        assert machine.execute("exit 3") == (3, "")
        machine.fail("false", "test -e /nonexistent")
        out = machine.succeed("printf 'a\\000b\\377'; printf '\\ttab\\n'")
        assert "\ttab" in out
        assert machine.succeed("cat /etc/hostname").strip() == "machine"
    with subtest("reboot, crash and start again, shut down"):
        first = machine.succeed("cat /proc/sys/kernel/random/boot_id").strip()
        machine.reboot()
        machine.wait_for_unit("multi-user.target")
        second = machine.succeed("cat /proc/sys/kernel/random/boot_id").strip()
        assert first != second, "the machine did not reboot"
        machine.succeed("echo kept > /root/survives && sync")
        machine.crash()
        machine.start()
        third = machine.succeed("cat /proc/sys/kernel/random/boot_id").strip()
        assert third != second, "the machine did not start again"
        # QEMU started again runs on the disk the machine left, not on a fresh copy.
        assert machine.succeed("cat /root/survives").strip() == "kept"
        machine.shutdown()
  '';
}
