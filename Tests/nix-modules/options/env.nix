# Shell environment, aliases, a getty autologin, a user's zsh and the message of the day.
{ pkgs, ... }:
{
  environment.variables = { EDITOR = "vi"; PAGER = "less -R"; XDG_DATA_DIRS = [ "/usr/share" "/usr/local/share" ]; };
  environment.shellAliases.ll = "ls -l 'my dir'";
  services.getty.autologinUser = "bob";
  users.motd = "Be kind; the disk is shared.\n";
  users.users.bob = { isNormalUser = true; shell = pkgs.zsh; uid = 1500; };
}
