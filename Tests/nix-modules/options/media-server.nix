{ ... }:
{
  networking.hostName = "nas";
  services.minidlna = {
    enable = true;
    openFirewall = true;
    friendlyName = "Family media";
    settings = {
      media_dir = [ "V,/srv/media/films" "A,/srv/media/music" ];
      inotify = "yes";
      album_art_names = [ "Cover.jpg" "cover.jpg" ];
    };
  };
  services.transmission = {
    enable = true;
    openRPCPort = true;
    openFirewall = true;
    downloadDirPermissions = "775";
    credentialsFile = "/run/secrets/transmission.json";
    settings = {
      download-dir = "/srv/media/incoming";
      rpc-bind-address = "0.0.0.0";
      rpc-whitelist = "127.0.0.1,192.168.1.*";
      ratio-limit = 2.0;
    };
  };
}
