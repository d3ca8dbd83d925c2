# mod_php is refused by name, with what to use instead.
{ ... }:
{
  services.httpd = { enable = true; enablePHP = true; };
}
