# The newer forms of postfix and samba (settings), dovecot with TLS, NFS with fixed ports.
{ pkgs, ... }:
{
  services.postfix = {
    enable = true;
    settings.main = {
      myhostname = "mx.example.org";
      relayhost = [ "[relay.example.org]:587" ];
      smtpd_tls_chain_files = [ "/var/lib/acme/mx/key.pem" "/var/lib/acme/mx/fullchain.pem" ];
    };
    enableSubmission = true;
    virtual = "postmaster@example.org root\n";
    transport = "example.net smtp:[10.0.0.5]\n";
  };
  services.dovecot2 = {
    enable = true;
    enablePop3 = true;
    sslServerCert = "/var/lib/acme/mx/fullchain.pem";
    sslServerKey = "/var/lib/acme/mx/key.pem";
  };
  services.samba = {
    enable = true;
    winbindd.enable = false;
    settings.global."server string" = "files";
    settings.backup = { path = "/srv/backup"; "read only" = false; "valid users" = [ "alice" "bob" ]; };
  };
  services.nfs.server = {
    enable = true;
    exports = "/srv/backup 10.0.0.0/24(rw,no_subtree_check)";
    createMountPoints = true;
    mountdPort = 4002;
    statdPort = 4000;
  };
}
