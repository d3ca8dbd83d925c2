# A sensor gateway on a small ARM board with UEFI firmware: Mosquitto takes the sensors'
# readings on the LAN, a timer publishes the board's own temperature, the journal lives in
# RAM to spare the SD card, swap is compressed RAM, and a watchdog resets the board if it
# hangs.
{ config, lib, pkgs, ... }:

let
  mqttPort = 1883;
  topic = "sensors/${config.networking.hostName}/temperature";
in
{
  imports =
    [ ./hardware-configuration.nix
    ];

  boot.loader.systemd-boot.enable = true;
  boot.loader.systemd-boot.configurationLimit = 3;
  boot.loader.efi.canTouchEfiVariables = false;

  networking.hostName = "sensor-gw";
  networking.firewall.allowedTCPPorts = [ mqttPort ];
  time.timeZone = "UTC";

  services.mosquitto = {
    enable = true;
    listeners = [ {
      port = mqttPort;
      omitPasswordAuth = true;
      settings.allow_anonymous = true;
      acl = [ "topic readwrite sensors/#" ];
    } ];
  };

  systemd.services.publish-temperature = {
    description = "Publish the board's temperature";
    after = [ "mosquitto.service" ];
    requires = [ "mosquitto.service" ];
    startAt = "*:*:0/20";
    path = [ pkgs.mosquitto-clients ];
    serviceConfig = {
      Type = "oneshot";
      DynamicUser = true;
    };
    script = ''
      # millidegrees Celsius; a board without a thermal zone reports none
      t=$(cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null || echo none)
      mosquitto_pub -h localhost -p ${toString mqttPort} -t ${topic} -r -m "$t"
    '';
  };

  services.journald = {
    storage = "volatile";
    extraConfig = "RuntimeMaxUse=16M";
  };
  zramSwap = {
    enable = true;
    memoryPercent = 25;
  };
  systemd.watchdog.runtimeTime = "30s";

  users.users.pi = {
    isNormalUser = true;
    extraGroups = [ "wheel" "dialout" ];
    openssh.authorizedKeys.keys = [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@laptop"
    ];
  };
  services.openssh.enable = true;

  environment.systemPackages = with pkgs; [ mosquitto i2c-tools usbutils ];

  system.stateVersion = "24.05";
}
