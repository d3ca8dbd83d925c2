# Sound on a desktop (NixOS: nixos/modules/services/desktops/pipewire/pipewire.nix,
# config/pulseaudio.nix, security/rtkit.nix, and 23.11's sound.enable): Debian's PipeWire
# with WirePlumber, its PulseAudio and ALSA replacements, or PulseAudio itself, and RealtimeKit.
# Debian enables PipeWire's user units for every user in its maintainer scripts (systemctl
# --global enable); Kiln makes the same links in /etc/systemd/user.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption mkEnableOption;
  cfg = config.services.pipewire;
  userUnit = name: "/usr/lib/systemd/user/${name}";
in
{
  options = {
    services.pipewire = {
      enable = mkEnableOption "PipeWire, the sound and video server, in every user's session";
      audio.enable = mkOption { type = types.bool; default = cfg.enable; description = "Whether PipeWire is the sound server (accepted: Debian's PipeWire always carries sound; alsa and pulse choose what it replaces)."; };
      alsa.enable = mkEnableOption "PipeWire as ALSA's default device (pipewire-alsa)";
      alsa.support32Bit = mkEnableOption "32-bit ALSA programs (accepted: Debian's 64-bit images run none)";
      pulse.enable = mkEnableOption "PipeWire's PulseAudio server (pipewire-pulse), for programs that speak PulseAudio";
      jack.enable = mkEnableOption "PipeWire's JACK libraries (pipewire-jack)";
      wireplumber.enable = mkOption { type = types.bool; default = cfg.enable; description = "Whether WirePlumber is PipeWire's session manager."; };
    };
    hardware.pulseaudio.enable = mkEnableOption "PulseAudio as the sound server (instead of PipeWire's)";
    sound.enable = mkEnableOption "ALSA's tools and the sound cards' saved state (alsa-utils; NixOS 23.11's sound.enable)";
    security.rtkit.enable = mkEnableOption "RealtimeKit, which gives sound servers real-time priority";
  };

  config = lib.mkMerge [
    (lib.mkIf cfg.enable {
      assertions = [ {
        assertion = !(cfg.pulse.enable && config.hardware.pulseaudio.enable);
        message = "services.pipewire.pulse.enable and hardware.pulseaudio.enable are both set; PipeWire's PulseAudio server replaces PulseAudio: set one.";
      } ];
      environment.systemPackages = [ pkgs.pipewire ]
        ++ lib.optional cfg.wireplumber.enable pkgs.wireplumber
        ++ lib.optional cfg.alsa.enable pkgs.pipewire-alsa
        ++ lib.optional cfg.pulse.enable pkgs.pipewire-pulse
        ++ lib.optional cfg.jack.enable pkgs.pipewire-jack;
      environment.etc = {
        "systemd/user/sockets.target.wants/pipewire.socket".source = userUnit "pipewire.socket";
      } // lib.optionalAttrs cfg.wireplumber.enable {
        "systemd/user/pipewire.service.wants/wireplumber.service".source = userUnit "wireplumber.service";
        "systemd/user/pipewire-session-manager.service".source = userUnit "wireplumber.service";
      } // lib.optionalAttrs cfg.pulse.enable {
        "systemd/user/sockets.target.wants/pipewire-pulse.socket".source = userUnit "pipewire-pulse.socket";
      };
    })
    (lib.mkIf config.hardware.pulseaudio.enable {
      environment.systemPackages = [ pkgs.pulseaudio ];
      environment.etc."systemd/user/sockets.target.wants/pulseaudio.socket".source = userUnit "pulseaudio.socket";
    })
    (lib.mkIf config.sound.enable {
      environment.systemPackages = [ pkgs.alsa-utils ];
    })
    (lib.mkIf config.security.rtkit.enable {
      environment.systemPackages = [ pkgs.rtkit ];
      # The account rtkit-daemon drops to (Debian's maintainer script makes it).
      users.users.rtkit = { isSystemUser = true; group = "rtkit"; home = "/proc"; description = "RealtimeKit"; };
      users.groups.rtkit = { };
      environment.etc."systemd/system/multi-user.target.wants/rtkit-daemon.service".source = "/lib/systemd/system/rtkit-daemon.service";
    })
  ];
}
