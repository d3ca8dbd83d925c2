# Every option module Kiln ships, loaded before the hardware file and the profile.
# Keep it sorted, grouped as nixpkgs' nixos/modules/module-list.nix is.
# (assertions.nix, which declares `assertions' and `warnings', is added by eval-modules.nix.)
[
  ./base.nix
  ./config/console.nix
  ./config/i18n.nix
  ./config/networking.nix
  ./config/power-management.nix
  ./config/shells-environment.nix
  ./config/system-environment.nix
  ./config/timezone.nix
  ./config/users-groups.nix
  ./hardware/redistributable-firmware.nix
  ./misc/version.nix
  ./security/sudo.nix
  ./services/networking/firewall.nix
  ./services/networking/ssh/sshd.nix
  ./services/system/cloud-init.nix
  ./services/system/dbus.nix
  ./services/ttys/getty.nix
  ./services/web-servers/nginx/default.nix
  ./system/activation/specialisation.nix
  ./system/activation/trial.nix
  ./system/boot/grow-partition.nix
  ./system/boot/kernel.nix
  ./system/boot/loader.nix
  ./system/boot/resolved.nix
  ./system/boot/systemd.nix
  ./system/boot/tmpfiles.nix
  ./system/etc/etc.nix
  ./system/image.nix
  ./system/kiln.nix
  ./system/plan.nix
  ./tasks/filesystems.nix
]
