# /etc/nsswitch.conf (NixOS: nixos/modules/config/nsswitch.nix). Modules add their sources
# to a database (services.avahi puts mDNS into hosts) and their NSS libraries to
# system.nssModules. NixOS needs nscd to reach the libraries in its store; a Kiln system keeps
# them where glibc looks (/usr/lib/<triplet>), so installing the package is enough.
#
# The order inside a line is what lookups try first: "files" comes before anything modules
# add with lib.mkBefore, and "dns" before what they add with lib.mkAfter, as Debian writes
# the lines (hosts: files mdns4_minimal [NOTFOUND=return] dns).
{ config, lib, ... }:
let
  inherit (lib) types mkOption;
  db = config.system.nssDatabases;
  database = name: default: mkOption {
    type = types.listOf types.str;
    default = [ ];
    description = "Sources of the ${name} database, in the order they are asked (${default} are always there).";
  };
in
{
  options.system = {
    nssModules = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "Packages with NSS modules (libnss_*.so) the databases name; they are installed.";
    };
    nssDatabases = {
      passwd = database "passwd" "files";
      group = database "group" "files";
      shadow = database "shadow" "files";
      hosts = database "hosts" "files and dns";
      services = database "services" "files";
    };
  };

  config = {
    system.nssDatabases = {
      passwd = lib.mkOrder 400 [ "files" ];
      group = lib.mkOrder 400 [ "files" ];
      shadow = lib.mkOrder 400 [ "files" ];
      hosts = lib.mkMerge [ (lib.mkOrder 400 [ "files" ]) (lib.mkOrder 1400 [ "dns" ]) ];
      services = lib.mkOrder 400 [ "files" ];
    };
    environment.systemPackages = config.system.nssModules;
    environment.etc."nsswitch.conf".text = ''
      passwd: ${lib.concatStringsSep " " db.passwd}
      group: ${lib.concatStringsSep " " db.group}
      shadow: ${lib.concatStringsSep " " db.shadow}
      hosts: ${lib.concatStringsSep " " db.hosts}
      networks: files
      protocols: files
      services: ${lib.concatStringsSep " " db.services}
    '';
  };
}
