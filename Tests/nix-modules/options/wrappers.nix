# security.wrappers: mtr's probe helper with a capability (programs.mtr), a setgid program of
# the site's own, and login shells finding them first.
{ ... }:
{
  programs.mtr.enable = true;
  users.groups.lab = { };
  security.wrappers.lab-probe = {
    source = "/run/current-system/sw/bin/ping";
    owner = "root";
    group = "lab";
    permissions = "u+rx,g+rx";
    setgid = true;
  };
}
