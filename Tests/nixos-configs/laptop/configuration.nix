# Alice's laptop: Xfce behind LightDM, a keyboard with Caps Lock as Escape, sound through
# PipeWire, printing, her favourite fonts, Firefox set up by policy, Flatpak with its portal,
# the SSD trimmed weekly, a locate database, the tools she uses every day, and her desktop
# over RDP (xrdp).
{ config, lib, pkgs, ... }:

{
  imports =
    [ ./hardware-configuration.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "laptop";
  networking.networkmanager.enable = true;
  time.timeZone = "Europe/Berlin";
  i18n.defaultLocale = "en_US.UTF-8";

  services.xserver = {
    enable = true;
    xkb = {
      layout = "us";
      options = "caps:escape";
    };
    displayManager.lightdm.enable = true;
    desktopManager.xfce.enable = true;
  };
  services.libinput.enable = true;

  # Her Xfce desktop from the office's Windows machines, over RDP.
  services.xrdp = {
    enable = true;
    defaultWindowManager = "xfce4-session";
    openFirewall = true;
  };
  hardware.opengl.enable = true;

  # Enable sound with pipewire.
  sound.enable = true;
  hardware.pulseaudio.enable = false;
  security.rtkit.enable = true;
  services.pipewire = {
    enable = true;
    alsa.enable = true;
    alsa.support32Bit = true;
    pulse.enable = true;
  };

  # Enable CUPS to print documents.
  services.printing.enable = true;
  services.printing.drivers = [ pkgs.gutenprint ];

  fonts.packages = with pkgs; [ noto-fonts fira-code ];
  fonts.fontconfig.defaultFonts.monospace = [ "Fira Code" ];

  users.users.alice = {
    isNormalUser = true;
    description = "Alice Liddell";
    extraGroups = [ "wheel" "video" "audio" "networkmanager" "lpadmin" ];
    initialPassword = "changeme";
  };

  # Install firefox.
  programs.firefox = {
    enable = true;
    languagePacks = [ "de" "en-GB" ];
    policies = {
      DisableTelemetry = true;
      DisableFirefoxStudies = true;
    };
    preferences."browser.startup.homepage" = "https://wiki.example.org/";
  };

  # Closing the lid at the desk, on power, keeps it running.
  services.logind.lidSwitchExternalPower = "ignore";
  # The power button locks the screen instead of switching the laptop off: logind leaves
  # the key alone, and acpid runs the command.
  services.logind.powerKey = "ignore";
  services.acpid = {
    enable = true;
    powerEventCommands = ''
      logger -t power-button "power button ($1): locking the sessions"
      loginctl lock-sessions
    '';
  };

  services.fstrim.enable = true;
  services.locate.enable = true;
  services.upower.enable = true;
  # Thunar's trash, network places and USB sticks.
  services.gvfs.enable = true;

  services.flatpak.enable = true;
  xdg.portal = {
    enable = true;
    extraPortals = [ pkgs.xdg-desktop-portal-gtk ];
    config.common.default = "gtk";
  };

  # The encrypted backup disk (a USB drive): its key is the first 4 KiB of a small partition
  # on the same drive, so it opens without a passphrase when plugged in, and mounts then.
  boot.initrd.luks.devices.backup = {
    device = "/dev/disk/by-partlabel/backup";
    keyFile = "/dev/disk/by-partlabel/backup-key";
    keyFileSize = 4096;
    allowDiscards = true;
  };
  fileSystems."/mnt/backup" = {
    device = "/dev/mapper/backup";
    fsType = "ext4";
    options = [ "nofail" "noatime" ];
  };

  programs.git.enable = true;
  environment.systemPackages = with pkgs; [ vim htop ];

  system.stateVersion = "23.11";
}
