# The programs.* people set, and nix.* / nixpkgs.* (accepted, named in one warning).
{ pkgs, ... }:
{
  programs.zsh = { enable = true; autosuggestions.enable = true; shellAliases.g = "git"; };
  programs.fish.enable = true;
  programs.neovim = { enable = true; defaultEditor = true; vimAlias = true; configure.customRC = "set number"; };
  programs.git = { enable = true; lfs.enable = true; config = { init.defaultBranch = "main"; url."https://example.org/".insteadOf = "ex:"; }; };
  programs.tmux = { enable = true; clock24 = true; keyMode = "vi"; shortcut = "a"; };
  programs.htop = { enable = true; settings = { tree_view = true; fields = [ 0 48 17 ]; }; };
  programs.mtr.enable = true;
  programs.gnupg.agent = { enable = true; enableSSHSupport = true; };
  programs.ssh.knownHosts.gw = { hostNames = [ "gw" "10.0.0.1" ]; publicKey = "ssh-ed25519 AAAAtest"; };
  programs.bash.shellAliases.l = "ls -la";
  nix.settings.experimental-features = [ "nix-command" "flakes" ];
  nix.gc = { automatic = true; dates = "weekly"; };
  nixpkgs.config.allowUnfree = true;
  users.users.root.shell = pkgs.zsh;
}
