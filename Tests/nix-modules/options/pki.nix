# security.pki: two Mozilla authorities left out, one file and one PEM text added.
{ pkgs, ... }:
{
  security.pki = {
    caCertificateBlacklist = [ "WoSign" "WoSign China" ];
    certificateFiles = [ ./pki-office-ca.pem ];
    certificates = [ "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----" ];
  };
}
