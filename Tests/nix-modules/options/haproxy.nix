# services.haproxy: NixOS's file, Debian's unit run as the haproxy account.
{ ... }:
{
  services.haproxy = {
    enable = true;
    config = ''
      frontend www
        bind :80
        default_backend app
      backend app
        server app1 127.0.0.1:8080
    '';
  };
}
