# security.apparmor: an enforced policy from its text, one complaining from a file, one left
# out, and an include; the unit loads only the two.
{ ... }:
{
  security.apparmor = {
    enable = true;
    includes."local/site-paths" = "@{SITE}=/srv/site\n";
    policies = {
      reader.profile = "abi <abi/3.0>,\ninclude <tunables/global>\nprofile reader { include <abstractions/base> }\n";
      tool = { state = "complain"; path = "/etc/apparmor.d/usr.bin.tool"; };
      old = { state = "disable"; profile = "profile old { }\n"; };
    };
  };
}
