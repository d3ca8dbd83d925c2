{ ... }:
{
  virtualisation.libvirtd = {
    enable = true;
    onBoot = "ignore";
    onShutdown = "shutdown";
    parallelShutdown = 2;
    extraConfig = ''max_clients = 10'';
    qemu = {
      runAsRoot = false;
      swtpm.enable = true;
    };
  };
  users.users.bob = { isNormalUser = true; extraGroups = [ "libvirtd" ]; };
}
