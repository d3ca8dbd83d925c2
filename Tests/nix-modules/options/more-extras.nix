# More lines of published configurations: doas for the wheel group and one command, mosh,
# Wireshark capturing for its group, GVfs for the file manager, irqbalance, memcached for a
# web application, and NTFS and exFAT disks.
{ ... }:
{
  security.doas = {
    enable = true;
    wheelNeedsPassword = false;
    extraRules = [ { users = [ "deploy" ]; cmd = "systemctl"; args = [ "restart" "nginx" ]; noPass = true; runAs = "root"; } ];
  };
  programs.mosh.enable = true;
  programs.wireshark.enable = true;
  services.gvfs.enable = true;
  services.irqbalance.enable = true;
  services.memcached = { enable = true; maxMemory = 256; extraOptions = [ "-v" ]; };
  boot.supportedFilesystems = [ "ntfs" "exfat" ];
}
