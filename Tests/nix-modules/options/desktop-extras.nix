# A laptop's sound (PipeWire as NixOS's installer suggests it), printing with a driver, and
# fonts with a preferred monospace face, in the older fonts.fonts name too; Firefox with
# policies, a locked preference and language packs.
{ pkgs, ... }:
{
  sound.enable = true;
  hardware.pulseaudio.enable = false;
  security.rtkit.enable = true;
  services.pipewire = { enable = true; alsa.enable = true; alsa.support32Bit = true; pulse.enable = true; };
  services.printing = { enable = true; drivers = [ pkgs.printer-driver-gutenprint ]; listenAddresses = [ "*:631" ]; allowFrom = [ "all" ]; browsing = true; defaultShared = true; openFirewall = true; };
  fonts.packages = [ pkgs.fonts-firacode ];
  fonts.fonts = [ pkgs.fonts-noto-core ];
  fonts.enableDefaultPackages = true;
  fonts.fontconfig.defaultFonts = { monospace = [ "Fira Code" ]; sansSerif = [ "Noto Sans" "DejaVu Sans" ]; };
  programs.firefox = {
    enable = true;
    languagePacks = [ "de" "pt-BR" ];
    policies.DisableTelemetry = true;
    preferences = { "browser.startup.homepage" = "https://wiki.example.org/"; "browser.tabs.warnOnClose" = false; };
    preferencesStatus = "default";
  };
}
