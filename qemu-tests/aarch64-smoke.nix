# The driver on another architecture: an aarch64 machine (UEFI, TCG) boots and answers.
{
  name = "aarch64-smoke";
  hardware = "qemu-aarch64";  # a machine description kiln carries (or a path to a .nix file)
  nodes.machine = { ... }: { };
  testScript = ''
    machine.start()
    assert machine.succeed("uname -m").strip() == "aarch64"
    machine.wait_for_unit("multi-user.target")
    status, out = machine.systemctl("list-units --failed --no-legend --plain")
    assert out.strip() == "", f"failed units: {out}"
  '';
}
