# A cloud server to start from: build it with a cloud preset, which brings the drivers,
# console, first-boot growth, cloud-init and SSH (root logs in with the provider's key):
#   kiln build profiles/cloud.nix --hardware amazon -o server.raw      (or google, azure, openstack)
# The host name comes from the cloud's metadata, so this profile sets none.
{ pkgs, ... }:
{
  environment.systemPackages = with pkgs; [ bash coreutils less curl ];
}
