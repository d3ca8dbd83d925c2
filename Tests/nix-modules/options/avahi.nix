# A home file server found by name: Avahi publishes its addresses and an SMB service, and
# .local names resolve through nss-mdns (the older nssmdns name, renamed to nssmdns4).
{ ... }:
{
  networking.hostName = "nas";
  services.avahi = {
    enable = true;
    nssmdns = true;
    publish = { enable = true; addresses = true; workstation = true; };
    allowInterfaces = [ "eth0" ];
    extraServiceFiles.smb = ''
      <?xml version="1.0" standalone='no'?>
      <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
      <service-group>
        <name replace-wildcards="yes">%h</name>
        <service><type>_smb._tcp</type><port>445</port></service>
      </service-group>
    '';
    extraServiceFiles.ssh = "/usr/share/doc/avahi-daemon/examples/ssh.service";
  };
}
