# What a rerun resumes from: the boot kiln test saved the first time this unchanged machine's
# backdoor answered, not the disk an earlier run left; and the guest's clock is the host's
# even though the saved boot is older. (Tests/integration/vm-tests.sh runs it twice and
# times the second run's first command.)
{
  name = "snapshot";
  nodes.machine = { ... }: { };
  testScript = ''
    import time

    machine.succeed("true")
    with subtest("a run starts from the saved boot, not from an earlier run's disk"):
        machine.fail("test -e /root/left-by-an-earlier-run")
        machine.succeed("touch /root/left-by-an-earlier-run")
    with subtest("the clock is the host's"):
        guest = int(machine.succeed("date +%s"))
        assert abs(guest - time.time()) < 10, f"guest clock {guest}, host {time.time()}"
    machine.wait_for_unit("multi-user.target")
  '';
}
