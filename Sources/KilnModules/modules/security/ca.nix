# security.pki (NixOS: nixos/modules/security/ca.nix): the certificate authorities the
# system trusts, in /etc/ssl/certs/ca-certificates.crt, where curl, GnuTLS and OpenSSL
# (/usr/lib/ssl/cert.pem) look. Debian builds that file with update-ca-certificates, a
# maintainer script Kiln does not run, and Kiln cannot read a package's files while
# evaluating; so the bundle is made on the machine early in boot, before sysinit.target,
# from ca-certificates' Mozilla set (less caCertificateBlacklist) and the configuration's
# own certificates, into /var/lib/kiln-pki, which the /etc paths link to.
{ config, lib, pkgs, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.security.pki;
  bundle = "/var/lib/kiln-pki/ca-certificates.crt";
  q = lib.escapeShellArg;
in
{
  options.security.pki = {
    installCACerts = mkOption { type = types.bool; default = true; description = "Whether the system trusts Mozilla's certificate authorities (and those below)."; };
    certificateFiles = mkOption { type = types.listOf types.path; default = [ ]; example = lib.literalExpression "[ ./my-ca.pem ]"; description = "PEM files of more authorities the system trusts."; };
    certificates = mkOption { type = types.listOf types.str; default = [ ]; description = "More authorities the system trusts, as PEM text."; };
    caCertificateBlacklist = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "WoSign" "WoSign China" ];
      description = "Mozilla authorities left out, by name (Debian's file name with spaces for underscores).";
    };
  };

  config = lib.mkIf cfg.installCACerts {
    environment.systemPackages = [ pkgs.ca-certificates ];
    environment.etc = {
      "ssl/certs/ca-certificates.crt".source = bundle;
      "ssl/certs/ca-bundle.crt".source = bundle;
      "pki/tls/certs/ca-bundle.crt".source = bundle;
      "ssl/kiln-extra-certificates.pem" = lib.mkIf (cfg.certificates != [ ]) { text = lib.concatStringsSep "\n" cfg.certificates + "\n"; };
    };
    systemd.services.kiln-ca-certificates = {
      description = "The system's bundle of trusted certificate authorities";
      wantedBy = [ "sysinit.target" ];
      after = [ "local-fs.target" ];
      before = [ "sysinit.target" "shutdown.target" ];
      conflicts = [ "shutdown.target" ];
      unitConfig.DefaultDependencies = false;
      serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
      script = ''
        set -eu
        mkdir -p /var/lib/kiln-pki
        {
        ${if cfg.caCertificateBlacklist == [ ] then "cat /usr/share/ca-certificates/mozilla/*.crt" else ''
          for f in /usr/share/ca-certificates/mozilla/*.crt; do
            case "''${f##*/}" in
              ${lib.concatMapStringsSep "|" (n: q "${lib.replaceStrings [ " " ] [ "_" ] n}.crt") cfg.caCertificateBlacklist}) continue ;;
            esac
            cat "$f"
          done
        ''}
          ${lib.concatMapStrings (f: "cat ${q "${f}"}\n") cfg.certificateFiles}
          ${lib.optionalString (cfg.certificates != [ ]) "cat /etc/ssl/kiln-extra-certificates.pem"}
        } > ${bundle}.new
        mv ${bundle}.new ${bundle}
      '';
    };
  };
}
