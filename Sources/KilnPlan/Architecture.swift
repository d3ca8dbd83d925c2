/// The machine architectures Kiln builds for. Every other tool's name for one is derived
/// here, so no call site spells an architecture in another vocabulary.
public enum Architecture: String, Codable, Sendable, CaseIterable {
    case x86_64, aarch64

    /// From a Nix system double ("x86_64-linux").
    public init?(nixSystem: String) {
        guard nixSystem.hasSuffix("-linux"), let a = Architecture(rawValue: String(nixSystem.dropLast(6))) else { return nil }
        self = a
    }

    /// The Nix system double, as `nixpkgs.hostPlatform` spells it.
    public var nixSystem: String { rawValue + "-linux" }

    /// The architecture this kiln runs on (nil on one Kiln builds no systems for).
    public static var host: Architecture? {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #else
        return nil
        #endif
    }

    /// Debian's architecture name (package indexes, .deb file names).
    public var debian: String {
        switch self {
        case .x86_64: return "amd64"
        case .aarch64: return "arm64"
        }
    }

    /// The UEFI specification's suffix ("x64", "aa64"): BOOTX64.EFI, systemd-bootx64.efi.
    public var efi: String {
        switch self {
        case .x86_64: return "x64"
        case .aarch64: return "aa64"
        }
    }

    /// The removable-media path firmware boots without NVRAM entries (UEFI 2.x, 3.5.1.1).
    public var efiRemovablePath: String { "EFI/BOOT/BOOT\(efi.uppercased()).EFI" }

    /// grub-mkimage's -O target for UEFI.
    public var grubEFITarget: String {
        switch self {
        case .x86_64: return "x86_64-efi"
        case .aarch64: return "arm64-efi"
        }
    }

    /// Debian's package of GRUB's UEFI modules for this architecture.
    public var grubEFIPackage: String { "grub-efi-\(debian)-bin" }

    /// Whether PC BIOS firmware exists for this architecture.
    public var hasBIOS: Bool { self == .x86_64 }

    /// The Discoverable Partitions Specification's root partition type GUID.
    public var rootPartitionType: String {
        switch self {
        case .x86_64: return "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
        case .aarch64: return "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
        }
    }

    /// The root partition's GPT name, as systemd-repart writes it.
    public var rootPartitionName: String {
        switch self {
        case .x86_64: return "root-x86-64"
        case .aarch64: return "root-arm64"
        }
    }

    /// The architecture whose root partition type GUID this is (either case), if any.
    public init?(rootPartitionType guid: String) {
        guard let a = Architecture.allCases.first(where: { $0.rootPartitionType == guid.uppercased() }) else { return nil }
        self = a
    }

    /// The QEMU system emulator.
    public var qemuBinary: String { "qemu-system-\(rawValue)" }

    /// QEMU's machine type, when the default is not the one Kiln boots.
    public var qemuMachine: [String] {
        switch self {
        case .x86_64: return []
        case .aarch64: return ["-M", "virt"]
        }
    }

    /// The CPU to emulate under TCG. Plain `-cpu max` on aarch64 emulates pointer
    /// authentication's QARMA, 3x slower (BOOT-NOTES.md).
    public var qemuTCGCPU: [String] {
        switch self {
        case .x86_64: return []
        case .aarch64: return ["-cpu", "max,pauth-impdef=on"]
        }
    }

    /// The UEFI firmware Debian's ovmf and qemu-efi-aarch64 install.
    public var uefiFirmware: String {
        switch self {
        case .x86_64: return "/usr/share/ovmf/OVMF.fd"
        case .aarch64: return "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
        }
    }

    /// The Debian package that installs `uefiFirmware`.
    public var uefiFirmwarePackage: String {
        switch self {
        case .x86_64: return "ovmf"
        case .aarch64: return "qemu-efi-aarch64"
        }
    }

    /// The serial console device the kernel names the first UART.
    public var serialConsole: String {
        switch self {
        case .x86_64: return "ttyS0"
        case .aarch64: return "ttyAMA0"
        }
    }
}
