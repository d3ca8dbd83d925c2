# More filesystems than the root, by device and by label, and a swap file.
{ ... }:
{
  fileSystems."/".fsType = "btrfs";
  fileSystems."/data" = { device = "/dev/vdb1"; fsType = "ext4"; options = [ "noatime" "nofail" ]; };
  fileSystems."/srv/my files" = { label = "FILES"; fsType = "xfs"; };
  fileSystems."/tmp" = { device = "tmpfs"; fsType = "tmpfs"; options = [ "mode=1777" ]; };
  swapDevices = [ { device = "/var/swapfile"; size = 512; } { device = "/dev/vdc"; priority = 5; } ];
}
