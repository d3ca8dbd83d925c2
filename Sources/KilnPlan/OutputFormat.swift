import KilnSupport

/// Disk image output formats.
public enum OutputFormat: String, Codable, Sendable, CaseIterable {
    /// raw: the disk as is (sparse). qcow2: QEMU's format. vhd: fixed-size VHD as Azure takes it
    /// (virtual size a whole number of MiB). vmdk: streamOptimized (VMware, vSphere import).
    /// gce: `disk.raw` in a gzip-compressed GNU tar, as Google Compute Engine imports it.
    /// iso: a hybrid ISO 9660 image (CD and USB, BIOS and UEFI) holding a live system; only
    /// for a configuration that imports the ISO module.
    case raw, qcow2, vhd, vmdk, gce, iso

    /// The `-f` name qemu-img and QEMU use for the format, if they read it directly.
    public var qemuFormat: String? {
        switch self {
        case .raw: return "raw"
        case .qcow2: return "qcow2"
        case .vhd: return "vpc"
        case .vmdk: return "vmdk"
        case .gce: return nil
        case .iso: return "raw"
        }
    }

    /// The format a file name's extension suggests (raw for anything unknown).
    public init(fileName: String) {
        self = Self(extensionOf: fileName) ?? .raw
    }

    /// The format a file name's extension names, if it names one (.raw and .img are raw).
    public init?(extensionOf fileName: String) {
        let name = fileName.split(separator: "/").last.map(String.init) ?? fileName
        guard name.contains(".") else { return nil }
        switch name.split(separator: ".").last.map(String.init) ?? "" {
        case "raw", "img": self = .raw
        case "qcow2": self = .qcow2
        case "vhd": self = .vhd
        case "vmdk": self = .vmdk
        case "gz", "tgz": self = .gce
        case "iso": self = .iso
        default: return nil
        }
    }

    /// The format `kiln build` writes: `explicit` (--format), else the one the output's
    /// extension names, else raw; when the machine names the formats its provider imports
    /// (`image.formats`, the usual one first), a format outside them is refused and an
    /// output name that says nothing gets the usual one.
    /// - Throws: `KilnError` naming the formats the provider takes.
    public static func choose(explicit: OutputFormat?, output: String, accepted: [OutputFormat]) throws -> OutputFormat {
        let fromName = OutputFormat(extensionOf: output)
        guard let usual = accepted.first else { return explicit ?? fromName ?? .raw }
        let list = accepted.map(\.rawValue).joined(separator: ", ")
        if let explicit {
            guard accepted.contains(explicit) else {
                throw KilnError("--format \(explicit.rawValue) is not a format this machine's provider imports (image.formats: \(list))",
                                hint: "leave --format out to write \(usual.rawValue), or pick one of \(list)")
            }
            return explicit
        }
        guard let fromName else { return usual }
        guard accepted.contains(fromName) else {
            throw KilnError("'\(output)' names a \(fromName.rawValue) image, which this machine's provider does not import (image.formats: \(list))",
                            hint: "name the output \(accepted.map { "*." + $0.fileExtension }.joined(separator: " or "))")
        }
        return fromName
    }

    /// The extension an image of this format usually has.
    public var fileExtension: String {
        switch self {
        case .gce: return "tar.gz"
        default: return rawValue
        }
    }
}
