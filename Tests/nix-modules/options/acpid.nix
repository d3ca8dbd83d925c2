{ ... }:
{
  services.acpid = {
    enable = true;
    logEvents = true;
    lidEventCommands = "echo lid >> /var/log/lid.log";
    handlers.volumeUp = { event = "button/volumeup"; action = "amixer set Master 5%+"; };
  };
}
