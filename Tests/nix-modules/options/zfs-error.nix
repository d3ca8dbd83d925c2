# ZFS, which many home-server configurations ask for, is not in Debian's main archive.
{ ... }:
{
  boot.supportedFilesystems = { zfs = true; ntfs = true; };
}
