# The system the ISO suite installs with kiln-install: small, a root password to log in with
# on the serial console, and GRUB for BIOS and UEFI on one disk (iso.sh installs it from a
# UEFI boot and boots the disk under UEFI).
{ ... }:
{
  networking.hostName = "installed";
  users.users.root.initialPassword = "kiln-installed";
  boot.loader.grub.efiSupport = true;
}
