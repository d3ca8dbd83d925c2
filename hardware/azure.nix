# Microsoft Azure (NixOS: virtualisation/azure-common.nix). Hyper-V: the VMBus, its storage
# (hv_storvsc, disks are SCSI) and network (hv_netvsc, loaded by udev) drivers; the serial
# console on ttyS0. Generation 1 VMs boot BIOS, generation 2 UEFI: the image does both.
# Azure takes a fixed VHD whose size is a whole number of MiB (`-o x.vhd`; Kiln's are),
# uploaded as a page blob (`az storage blob upload --type page`, then `az image create`).
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/cloud-guest.nix") ];
  image.formats = [ "vhd" ];
  boot.initrd.availableKernelModules = [ "hv_vmbus" "hv_storvsc" "sd_mod" ];
  # Azure's serial console reads ttyS0 from the first line; its disks can be slow to show.
  boot.kernelParams = [ "console=ttyS0,115200n8" "earlyprintk=ttyS0" "rootdelay=300" ];
  services.cloud-init.datasources = [ "Azure" "None" ];
}
