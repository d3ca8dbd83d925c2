# What a QEMU virtual machine needs (NixOS: nixos/modules/profiles/qemu-guest.nix): its
# storage drivers in the initrd, and a module tree cut to the devices QEMU can give it
# (virtio, USB, input, graphics, the CD-ROM) plus the filesystems and network stacks a
# server uses; udev loads whichever of them the machine has. The machine descriptions in
# hardware/ import it; import it yourself as "${modulesPath}/profiles/qemu-guest.nix".
{ lib, ... }:
{
  boot.initrd.kernelModules = [ "virtio_pci_modern_dev" "virtio_pci_legacy_dev" "virtio_pci" "virtio_blk" ];
  boot.kernelModulesTree = lib.mkDefault [
    # Devices
    "drivers/virtio" "drivers/block/virtio_blk.ko" "drivers/block/loop.ko" "drivers/block/nbd.ko"
    "drivers/char/virtio_console.ko" "drivers/char/hw_random" "drivers/scsi/virtio_scsi.ko" "drivers/scsi/sr_mod.ko"
    "drivers/scsi/sd_mod.ko" "drivers/cdrom" "drivers/ata/ahci.ko" "drivers/ata/ata_piix.ko" "drivers/net/virtio_net.ko"
    "drivers/gpu/drm/virtio" "drivers/gpu/drm/tiny" "drivers/gpu/drm/qxl" "drivers/usb/host" "drivers/usb/storage"
    "drivers/hid/usbhid" "drivers/hid/hid-generic.ko" "drivers/input/evdev.ko" "drivers/input/mouse"
    "drivers/input/keyboard" "drivers/input/tablet" "drivers/input/misc/uinput.ko" "drivers/input/serio"
    # The ACPI power button: QEMU's system_powerdown (virsh shutdown, a host stopping the VM)
    # reaches logind and acpid only through it.
    "drivers/acpi/button.ko"
    # Virtual network devices (containers, VPNs, bridges)
    "drivers/net/tun.ko" "drivers/net/tap.ko" "drivers/net/veth.ko" "drivers/net/dummy.ko" "drivers/net/macvlan.ko"
    "drivers/net/macvtap.ko" "drivers/net/ipvlan" "drivers/net/vxlan" "drivers/net/bonding" "drivers/net/wireguard"
    # Filesystems
    "fs/ext4" "fs/btrfs" "fs/fat" "fs/nls" "fs/isofs" "fs/squashfs" "fs/overlayfs" "fs/fuse" "fs/9p" "fs/nfs"
    "fs/nfs_common" "fs/lockd" "fs/nfsd" "fs/autofs" "fs/efivarfs" "fs/xfs"
    # systemd-binfmt registers what packages list in binfmt.d (python3.11 does)
    "fs/binfmt_misc.ko"
    # Network stacks
    "net/netfilter" "net/ipv4" "net/ipv6" "net/bridge" "net/sched" "net/sunrpc" "net/9p" "net/8021q" "net/llc"
    "net/802" "net/packet" "net/vmw_vsock"
    "crypto"
  ];
}
