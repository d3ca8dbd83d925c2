# The home server: the family's files over SMB (a shared media folder anyone at home can
# read, a private share per person) and over NFS for the Linux machines, a WireGuard tunnel
# to reach them from outside, and a nightly job that keeps the media folder tidy. Avahi
# makes it nas.local and announces its shares; restic backs the media folder up nightly;
# chrony keeps the house's clocks with its own, and Unbound answers the house's DNS.
# MiniDLNA serves the media folder to the television, and Transmission downloads into it;
# Tor makes its SSH an onion service.
{ config, lib, pkgs, ... }:

let
  lan = "192.168.1.0/24";
  people = [ "anna" "ben" ];
  storage = "/srv/storage";
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "nas";

  users.groups.family = { };
  users.users = lib.genAttrs people (name: {
    isNormalUser = true;
    extraGroups = [ "family" ];
  });

  systemd.tmpfiles.rules =
    [ "d ${storage}/media 2775 root family -" ]
    ++ map (name: "d ${storage}/home/${name} 0700 ${name} users -") people;

  services.samba = {
    enable = true;
    openFirewall = true;
    securityType = "user";
    extraConfig = ''
      workgroup = HOME
      server string = nas
      hosts allow = ${lan} 127.0.0.1
      map to guest = bad user
    '';
    shares = {
      media = {
        path = "${storage}/media";
        browseable = "yes";
        "read only" = "yes";
        "guest ok" = "yes";
        "write list" = "@family";
      };
    } // lib.genAttrs people (name: {
      path = "${storage}/home/${name}";
      "valid users" = name;
      "read only" = "no";
      browseable = "no";
    });
  };

  # The laptops find the box as nas.local; Samba announces its shares through Avahi by
  # itself, and the SFTP service is announced for file managers.
  services.avahi = {
    enable = true;
    nssmdns4 = true;
    publish = {
      enable = true;
      addresses = true;
      userServices = true;
    };
    extraServiceFiles.sftp = ''
      <?xml version="1.0" standalone='no'?><!--*-nxml-*-->
      <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
      <service-group>
        <name replace-wildcards="yes">%h</name>
        <service>
          <type>_sftp-ssh._tcp</type>
          <port>22</port>
        </service>
      </service-group>
    '';
  };

  # The family's photos and films, every night to the backup disk, a week and a month kept.
  services.restic.backups.media = {
    paths = [ "${storage}/media" ];
    exclude = [ "*.part" ];
    repository = "/var/backups/restic";
    passwordFile = "/etc/restic/password";
    initialize = true;
    pruneOpts = [ "--keep-daily 7" "--keep-weekly 4" ];
    timerConfig = { OnCalendar = "03:30"; Persistent = true; };
  };
  # In a real home a secret kept off the configuration; here a file the configuration writes.
  environment.etc."restic/password" = { text = "family-restic-password"; mode = "0400"; };

  services.nfs.server = {
    enable = true;
    exports = ''
      ${storage}/media  ${lan}(ro,no_subtree_check) 127.0.0.1(ro,no_subtree_check)
    '';
  };
  networking.firewall.allowedTCPPorts = [ 2049 53 ];

  networking.wireguard.interfaces.wg0 = {
    ips = [ "10.77.0.1/24" ];
    listenPort = 51820;
    privateKeyFile = "/var/lib/wireguard/wg0.key";
    generatePrivateKeyFile = true;
    peers = [
      { # ben's phone
        publicKey = "FvcpuIv5izzcAUWdIuoGlO+tt2UWWCfCpA795a0fBRA=";
        allowedIPs = [ "10.77.0.2/32" ];
      }
    ];
  };
  networking.firewall.allowedUDPPorts = [ 51820 123 53 ];

  # The house's resolver: names of the home's own devices, everything else from the router.
  services.unbound = {
    enable = true;
    settings = {
      server = {
        interface = [ "0.0.0.0" ];
        access-control = [ "127.0.0.0/8 allow" "${lan} allow" ];
        local-zone = [ ''"home.arpa." static'' ];
        local-data = [
          ''"printer.home.arpa. A 192.168.1.20"''
          ''"router.home.arpa. A 192.168.1.1"''
        ];
      };
      forward-zone = [ { name = "."; forward-addr = "192.168.1.1"; } ];
    };
  };

  # The house's clocks keep time with the box, which keeps its own with the pool (and goes
  # on serving its own clock when the Internet is down).
  services.chrony = {
    enable = true;
    extraConfig = ''
      allow ${lan}
      local stratum 10
    '';
  };

  # The living room's television plays the media folder over DLNA, and finds new files
  # as they land.
  services.minidlna = {
    enable = true;
    openFirewall = true;
    settings = {
      friendly_name = "Home media";
      media_dir = [ "${storage}/media" ];
      inotify = "yes";
    };
  };

  # Torrents (the family's Linux ISOs) download into the media folder; the web interface is
  # for the house only, behind a password kept off the configuration.
  services.transmission = {
    enable = true;
    openRPCPort = true;
    credentialsFile = "/etc/transmission-credentials.json";
    settings = {
      download-dir = "${storage}/media/incoming";
      rpc-bind-address = "0.0.0.0";
      rpc-whitelist = "127.0.0.1,192.168.1.*";
      rpc-authentication-required = true;
      rpc-username = "family";
    };
  };
  # In a real home a secret kept off the configuration; here a file the configuration writes.
  environment.etc."transmission-credentials.json" = {
    text = builtins.toJSON { rpc-password = "family-torrents"; };
    mode = "0400";
  };

  # SSH from outside the house without opening a port on the router: an onion service, and
  # Tor's SOCKS port for the house's own use.
  services.tor = {
    enable = true;
    client.enable = true;
    relay.onionServices.ssh.map = [ 22 ];
  };

  systemd.services.media-permissions = {
    description = "Keep the media folder writable by the family";
    startAt = "daily";
    serviceConfig.Type = "oneshot";
    script = ''
      chgrp -R family ${storage}/media
      chmod -R g+rwX ${storage}/media
    '';
  };

  environment.systemPackages = with pkgs; [ rsync htop ];

  system.stateVersion = "23.11";
}
