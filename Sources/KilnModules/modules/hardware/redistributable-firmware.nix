# hardware.enableRedistributableFirmware and hardware.cpu.{intel,amd}.updateMicrocode (NixOS:
# nixos/modules/hardware/all-firmware.nix, cpu/intel-microcode.nix, cpu/amd-microcode.nix),
# which every hardware-configuration.nix sets. Debian ships device firmware and CPU
# microcode in its non-free-firmware component (firmware-linux-nonfree, intel-microcode,
# amd64-microcode), which a build host's APT sources need not carry; the images Kiln makes
# for virtual machines need none. So the options are accepted and, when on, say once that
# they do nothing, naming the option.
{ config, lib, options, ... }:
let
  inherit (lib) types mkOption;
  cfg = config.hardware;
  filesOf = opt: lib.concatStringsSep ", " (map toString opt.files);
  noEffect = name: opt: why: lib.optional opt.value
    "${name} is set (in ${filesOf opt}) but has no effect in a Kiln image: ${why}";
in
{
  options.hardware = {
    enableRedistributableFirmware = mkOption {
      type = types.bool;
      default = false;
      description = "Whether firmware with a licence that allows redistribution is installed (accepted; no effect in Kiln yet, which warns).";
    };
    cpu.intel.updateMicrocode = mkOption {
      type = types.bool;
      default = false;
      description = "Whether Intel CPU microcode is updated at boot (accepted; no effect in Kiln yet, which warns).";
    };
    cpu.amd.updateMicrocode = mkOption {
      type = types.bool;
      default = false;
      description = "Whether AMD CPU microcode is updated at boot (accepted; no effect in Kiln yet, which warns).";
    };
  };

  config.warnings =
    noEffect "hardware.enableRedistributableFirmware" options.hardware.enableRedistributableFirmware
      "Debian's firmware packages are in non-free-firmware; add the ones a machine needs to environment.systemPackages"
    ++ noEffect "hardware.cpu.intel.updateMicrocode" options.hardware.cpu.intel.updateMicrocode
      "Debian's intel-microcode is in non-free-firmware, and a virtual machine's host loads the microcode"
    ++ noEffect "hardware.cpu.amd.updateMicrocode" options.hardware.cpu.amd.updateMicrocode
      "Debian's amd64-microcode is in non-free-firmware, and a virtual machine's host loads the microcode";
}
