# The office mail relay: Postfix takes mail for the domain and delivers it to Maildirs,
# relays the LAN's outgoing mail through the provider's smarthost, and Dovecot serves the
# mailboxes over IMAP. ClamAV scans the mailboxes at night.
{ config, lib, pkgs, ... }:

let
  domain = "example.test";
  lan = "192.168.1.0/24";
in
{
  imports =
    [ ./hardware-configuration.nix
      ../common/admins.nix
      ./mailboxes.nix
    ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/vda";

  networking.hostName = "mail";
  networking.domain = domain;
  networking.firewall.allowedTCPPorts = [ 25 143 ];

  site.mail = {
    inherit domain;
    mailboxes.alice = {
      # openssl passwd -6 of "alice-imap-secret"
      hashedPassword = "$6$kilncorpusmail$Mydw7fmIgJUS8vVBAonpfl3AkbAlif9dERP25A3g93er5R/pTSRDqYsPMBbiToOhyoZbtbfK3LhiiY1S4MAb01";
      aliases = [ "info" "sales" ];
    };
  };

  services.postfix = {
    enable = true;
    hostname = "mail.${domain}";
    inherit domain;
    origin = domain;
    destination = [ "$myhostname" domain "localhost" ];
    networks = [ "127.0.0.0/8" lan ];
    relayHost = "smtp.provider.example";
    relayPort = 587;
    rootAlias = "alice";
    config = {
      home_mailbox = "Maildir/";
      smtpd_banner = "$myhostname ESMTP";
      smtpd_recipient_restrictions = [ "permit_mynetworks" "reject_unauth_destination" ];
    };
  };

  services.dovecot2 = {
    enable = true;
    mailLocation = "maildir:~/Maildir";
    mailboxes = {
      Sent = { auto = "subscribe"; specialUse = "Sent"; };
      Trash = { auto = "create"; specialUse = "Trash"; };
    };
  };

  # The mailboxes are scanned every night, with ClamAV's signatures kept fresh.
  services.clamav = {
    daemon.enable = true;
    daemon.settings.MaxFileSize = "50M";
    updater.enable = true;
    scanner = {
      enable = true;
      scanDirectories = [ "/home" ];
    };
  };

  environment.systemPackages = with pkgs; [ curl ];

  system.stateVersion = "23.11";
}
