# security.sudo.extraRules in every form NixOS accepts (users and groups by name or number,
# host, runAs, commands as strings or { command; options; } with each tag), mkBefore and
# mkAfter around wheel's rule, extraConfig, configFile, and execWheelOnly's warning.
{ lib, ... }:
{
  users.users.alice = { isNormalUser = true; extraGroups = [ "wheel" ]; };
  users.users.bob.isNormalUser = true;
  users.groups.ops.gid = 1500;
  security.sudo.enable = true;
  security.sudo.execWheelOnly = true;
  security.sudo.extraRules = lib.mkMerge [
    (lib.mkAfter [ { users = [ "bob" ]; commands = [ { command = "ALL"; options = [ "PASSWD" ]; } ]; } ])
    [
      { users = [ "backup" "database" ]; groups = [ 1006 ];
        commands = [ { command = "/home/root/secret.sh"; options = [ "SETENV" "NOPASSWD" ]; } ]; }
      { groups = [ "bar" ]; runAs = "foo";
        commands = [ "/home/baz/cmd1.sh hello-sudo" { command = ''/home/baz/cmd2.sh ""''; options = [ "SETENV" ]; } ]; }
      { users = [ 1000 ]; groups = [ "ops" ]; host = "relaxed"; runAs = ":ops";
        commands = [
          { command = "/usr/bin/id"; options = [ "NOEXEC" "NOSETENV" ]; }
          { command = "/usr/bin/env"; options = [ "EXEC" "LOG_INPUT" "LOG_OUTPUT" ]; }
          { command = "/usr/bin/true"; options = [ "NOLOG_INPUT" "NOLOG_OUTPUT" ]; }
        ]; }
      { users = [ "nobody" ]; commands = [ ]; }
    ]
    (lib.mkBefore [ { groups = [ "sudo" ]; commands = [ "ALL" ]; } ])
  ];
  security.sudo.extraConfig = "Defaults:bob timestamp_timeout=0";
  security.sudo.configFile = "Defaults:alice !lecture";
}
