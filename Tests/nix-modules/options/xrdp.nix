{ pkgs, ... }:
{
  services.xrdp = {
    enable = true;
    openFirewall = true;
    port = "tcp://:3390";
    defaultWindowManager = "xfce4-session";
    extraConfDirCommands = ''
      substituteInPlace $out/sesman.ini \
        --replace LogLevel=INFO LogLevel=DEBUG
    '';
  };
}
