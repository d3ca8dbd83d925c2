{ ... }:
{
  boot.loader.grub.enable = false;
}
