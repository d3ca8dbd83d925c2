# Google Compute Engine (NixOS: virtualisation/google-compute-config.nix). Disks are
# virtio-scsi (or NVMe), the NIC virtio-net or gVNIC (gve, loaded by udev), the network's
# MTU 1460, and the metadata server is metadata.google.internal. The image is the GCE
# tarball (`disk.raw` in a .tar.gz) for `gcloud compute images create --source-uri`.
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/cloud-guest.nix") ];
  image.formats = [ "gce" ];
  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_scsi" "sd_mod" ];
  boot.kernelParams = [ "console=ttyS0,38400n8" ];
  networking.extraHosts = "169.254.169.254 metadata.google.internal metadata\n";
  # GCE's VPC networks carry 1460-byte packets: every DHCP interface gets that MTU.
  environment.etc."systemd/network/99-kiln-dhcp.network.d/gce-mtu.conf".text = "[Link]\nMTUBytes=1460\n";
  services.cloud-init.datasources = [ "GCE" "None" ];
}
