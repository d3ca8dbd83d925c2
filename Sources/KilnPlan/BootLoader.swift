/// The boot loader a configuration chose (`boot.loader.*`), with the firmware it serves.
/// A GRUB that boots nothing cannot be written down.
public enum BootLoader: Sendable, Hashable {
    /// GRUB for BIOS (MBR and BIOS boot partition), for UEFI (the removable EFI path), or both.
    case grub(GrubPlatforms)
    /// systemd-boot with Boot Loader Specification entries (UEFI only).
    case systemdBoot

    public enum GrubPlatforms: String, Codable, Sendable {
        case bios, uefi
        case biosAndUEFI = "bios+uefi"
    }

    /// Whether BIOS firmware can boot the disk.
    public var bootsBIOS: Bool {
        switch self {
        case .grub(let p): return p != .uefi
        case .systemdBoot: return false
        }
    }

    /// Whether UEFI firmware can boot the disk.
    public var bootsUEFI: Bool {
        switch self {
        case .grub(let p): return p != .bios
        case .systemdBoot: return true
        }
    }

    /// The firmware to boot the disk with when a machine offers both: BIOS where it works.
    public var preferredFirmware: Firmware { bootsBIOS ? .bios : .uefi }
}

/// Decoded from the plan's `{ kind = "grub"; platforms = "bios"; }` or `{ kind = "systemd-boot"; }`.
extension BootLoader: Codable {
    private enum Keys: String, CodingKey { case kind, platforms }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "grub": self = .grub(try c.decode(GrubPlatforms.self, forKey: .platforms))
        case "systemd-boot": self = .systemdBoot
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown boot loader '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .grub(let p): try c.encode("grub", forKey: .kind); try c.encode(p, forKey: .platforms)
        case .systemdBoot: try c.encode("systemd-boot", forKey: .kind)
        }
    }
}
