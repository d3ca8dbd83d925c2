{ ... }:
{
  assertions = [ { assertion = false; message = "this profile is meant to fail"; } ];
}
