# The cloud suite's profile: profiles/cloud.nix as a user starts from it, with only an
# ed25519 host key (NixOS's default RSA 4096 key costs 10-60 s to make under emulation).
# No key and no host name here: both must come from the cloud's metadata.
{ ... }:
{
  imports = [ ../../../profiles/cloud.nix ];
  services.openssh.hostKeys = [ { type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; } ];
}
