# OpenStack (NixOS: virtualisation/openstack-config.nix): KVM with virtio disks and NICs;
# the image is a qcow2 (`-o x.qcow2`, or raw) for `openstack image create --disk-format
# qcow2`. Metadata from a config drive, the metadata service, or a NoCloud seed.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/cloud-guest.nix") ];
  image.formats = [ "qcow2" "raw" ];
  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_blk" "virtio_scsi" "sd_mod" ];
  boot.kernelParams = [ "console=ttyS0,115200n8" ];
  services.cloud-init.datasources = [ "NoCloud" "ConfigDrive" "OpenStack" "None" ];
}
