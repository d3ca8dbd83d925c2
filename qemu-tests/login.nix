# Password login on the serial console, typed with send_chars, as a person would.
{
  name = "login";
  nodes.machine = { pkgs, ... }: {
    users.users.root.initialPassword = "kiln";
    users.users.alice = { isNormalUser = true; initialPassword = "wonderland"; };
  };
  testScript = ''
    machine.start()
    machine.wait_for_unit("multi-user.target")
    machine.wait_for_unit("serial-getty@ttyS0.service")

    with subtest("a wrong password is refused"):
        machine.wait_for_console_text("login: ")
        machine.send_console("alice\n")
        machine.wait_for_console_text("Password: ")
        machine.send_console("not-the-password\n")
        machine.wait_for_console_text("Login incorrect")

    with subtest("alice logs in with her password"):
        machine.wait_for_console_text("login: ")
        machine.send_console("alice\n")
        machine.wait_for_console_text("Password: ")
        machine.send_console("wonderland\n")
        machine.wait_for_console_text(r"\$ ")
        machine.send_console("echo logged-in-as-$(id -un)-$((6 * 7)) > /tmp/login-proof\n")
        machine.wait_for_file("/tmp/login-proof")
        assert machine.succeed("cat /tmp/login-proof").strip() == "logged-in-as-alice-42"
        assert "alice" in machine.succeed("stat -c %U /tmp/login-proof")

    with subtest("logging out ends the session"):
        machine.send_console("exit\n")
        machine.wait_for_console_text("login: ")

    machine.screenshot("console")
  '';
}
