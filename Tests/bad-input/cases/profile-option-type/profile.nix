{ ... }:
{
  services.openssh.enable = "yes";
}
