# Amazon EC2 (NixOS: virtualisation/amazon-image.nix). Nitro instances: the disk is NVMe
# (built into Debian's cloud kernel), the NIC is ENA (loaded by udev); older Xen ones have
# xen-blkfront. BIOS and UEFI instance types both boot the image. Upload a raw image
# (`-o x.raw`, the default) or a VHD (`-o x.vhd`) with `aws ec2 import-snapshot`.
# Metadata: the instance metadata service (IMDSv2) at 169.254.169.254.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/cloud-guest.nix") ];
  image.formats = [ "raw" "vhd" ];
  boot.initrd.availableKernelModules = [ "xen-blkfront" ];
  # EBS volumes can pause for longer than NVMe's default I/O timeout; Amazon's advice.
  boot.kernelParams = [ "console=ttyS0,115200n8" "nvme_core.io_timeout=4294967295" ];
  services.cloud-init.datasources = [ "Ec2" "None" ];
}
