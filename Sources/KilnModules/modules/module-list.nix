# Every option module Kiln ships, loaded before the hardware file and the profile.
# Keep it sorted, grouped as nixpkgs' nixos/modules/module-list.nix is.
[
  ./base.nix
  ./systemd.nix
]
