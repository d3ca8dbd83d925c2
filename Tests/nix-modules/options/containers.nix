# Docker with its daemon settings, off at boot (socket-activated), and Podman with dockerCompat.
{ ... }:
{
  virtualisation.docker = {
    enable = true;
    enableOnBoot = false;
    storageDriver = "overlay2";
    daemon.settings.ipv6 = true;
    extraOptions = "--debug";
  };
  virtualisation.podman = { enable = true; dockerCompat = true; dockerSocket.enable = true; };
  virtualisation.containers.registries.insecure = [ "registry.lan:5000" ];
}
