# A test whose script has a Python syntax error on the file's line 8: named before anything
# is built.
{
  name = "broken";
  nodes.machine = { ... }: { };
  testScript = ''
    machine.start()
    if machine.succeed("true")
        machine.shutdown()
  '';
}
