# A small module of the site's own: mailboxes are declared once, as people do, and turn into
# the users, the virtual aliases Postfix delivers by and nothing else.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.site.mail;
in
{
  options.site.mail = {
    domain = mkOption { type = types.str; description = "The domain this host takes mail for."; };
    mailboxes = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          hashedPassword = mkOption { type = types.str; description = "The mailbox owner's login (IMAP) password hash."; };
          aliases = mkOption { type = types.listOf types.str; default = [ ]; description = "Other local parts that land in this mailbox."; };
        };
      });
      default = { };
      description = "Mailboxes, by user name.";
    };
  };

  config = {
    users.users = lib.mapAttrs (name: box: {
      isNormalUser = true;
      inherit (box) hashedPassword;
    }) cfg.mailboxes;

    services.postfix.virtual = lib.concatStrings (lib.concatLists (lib.mapAttrsToList (name: box:
      map (alias: "${alias}@${cfg.domain} ${name}\n") box.aliases) cfg.mailboxes));
  };
}
