# services.syncthing: a device and a folder shared with it by name, a global option, the
# keys copied in, and the REST calls syncthing-init makes.
{ ... }:
{
  services.syncthing = {
    enable = true;
    openDefaultPorts = true;
    cert = "/etc/st/cert.pem";
    key = "/etc/st/key.pem";
    settings = {
      options.relaysEnabled = false;
      devices.laptop = { id = "FIUNEXP-N2QDQPT-SNHTK22-3O5K74I-K4SLGWJ-FTIISSN-3BNDIO3-DUPXHAU"; addresses = [ "tcp://laptop:22000" ]; };
      folders."/srv/photos" = { id = "photos"; devices = [ "laptop" ]; versioning = { type = "simple"; params.keep = "5"; }; };
    };
  };
}
