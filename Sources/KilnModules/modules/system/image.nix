# What the image file is: options a cloud preset (hardware/) sets so that `kiln build
# --hardware amazon -o x.raw` writes what that cloud imports, with no more flags.
{ lib, ... }:
let inherit (lib) types; in
{
  options.image.formats = lib.mkOption {
    type = types.listOf (types.enum [ "raw" "qcow2" "vhd" "vmdk" "gce" ]);
    default = [ ];
    example = [ "raw" "vhd" ];
    description = ''
      The image formats this machine's provider imports, the usual one first. kiln build
      writes the one --format names or the output's extension says, if it is one of them,
      else the first; a format the provider cannot take is refused. Empty: any (from
      --format or the output's name, else raw).
    '';
  };
}
