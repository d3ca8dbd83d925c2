# A folder shared with a device that is not declared is refused, naming both.
{ ... }:
{
  services.syncthing = { enable = true; settings.folders."/srv/x".devices = [ "nas" ]; };
}
