# Shell environment, aliases, a getty autologin and a user's zsh.
{ pkgs, ... }:
{
  environment.variables = { EDITOR = "vi"; PAGER = "less -R"; XDG_DATA_DIRS = [ "/usr/share" "/usr/local/share" ]; };
  environment.shellAliases.ll = "ls -l 'my dir'";
  services.getty.autologinUser = "bob";
  users.users.bob = { isNormalUser = true; shell = pkgs.zsh; uid = 1500; };
}
