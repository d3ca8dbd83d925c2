# Bob's developer workstation: zsh with completion and suggestions, neovim as the editor,
# git with his defaults and LFS, tmux, direnv, the GnuPG agent for SSH, Docker, libvirt for
# test VMs, and the toolchains and tools he uses, listed by their nixpkgs names in one let binding.
{ config, lib, pkgs, ... }:

let
  languages = with pkgs; [ gcc gnumake cmake pkg-config python3 python3Packages.requests python3Packages.pytest nodejs go rustc cargo ];
  tools = with pkgs; [ ripgrep fd jq yq tree curl wget unzip file shellcheck gh hyperfine bat ];
in
{
  imports =
    [ ./hardware-configuration.nix
    ];

  # Use the systemd-boot EFI boot loader.
  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;
  boot.kernel.sysctl."fs.inotify.max_user_watches" = 524288;

  networking.hostName = "devbox";
  time.timeZone = "Europe/Berlin";
  i18n.defaultLocale = "en_US.UTF-8";
  console.keyMap = "us";

  users.users.bob = {
    isNormalUser = true;
    description = "Bob";
    extraGroups = [ "wheel" "docker" "libvirtd" ];
    shell = pkgs.zsh;
    initialPassword = "changeme";
  };

  programs.zsh = {
    enable = true;
    enableCompletion = true;
    autosuggestions.enable = true;
    syntaxHighlighting.enable = true;
    shellAliases = {
      ll = "ls -l";
      gs = "git status";
    };
  };

  programs.neovim = {
    enable = true;
    defaultEditor = true;
    viAlias = true;
    vimAlias = true;
  };

  programs.git = {
    enable = true;
    lfs.enable = true;
    config = {
      init.defaultBranch = "main";
      pull.rebase = true;
      alias.lg = "log --oneline --graph";
    };
  };

  programs.tmux = {
    enable = true;
    clock24 = true;
    keyMode = "vi";
  };

  programs.direnv.enable = true;
  programs.gnupg.agent = {
    enable = true;
    enableSSHSupport = true;
  };
  programs.htop.enable = true;
  programs.mtr.enable = true;

  virtualisation.docker.enable = true;
  # Test VMs for the distributions Bob ships to.
  virtualisation.libvirtd.enable = true;

  services.openssh.enable = true;
  boot.tmp.useTmpfs = true;
  # Big builds should not freeze the desktop: kill the largest process first.
  services.earlyoom = {
    enable = true;
    freeMemThreshold = 5;
  };

  nix.settings.experimental-features = [ "nix-command" "flakes" ];
  nixpkgs.config.allowUnfree = true;

  environment.systemPackages = languages ++ tools;
  environment.variables.GOPATH = "$HOME/go";

  system.stateVersion = "24.05";
}
