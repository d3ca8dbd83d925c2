/// Disk image output formats.
public enum OutputFormat: String, Codable, Sendable, CaseIterable {
    /// raw: the disk as is (sparse). qcow2: QEMU's format. vhd: fixed-size VHD as Azure takes it
    /// (virtual size a whole number of MiB). vmdk: streamOptimized (VMware, vSphere import).
    /// gce: `disk.raw` in a gzip-compressed GNU tar, as Google Compute Engine imports it.
    case raw, qcow2, vhd, vmdk, gce

    /// The `-f` name qemu-img and QEMU use for the format, if they read it directly.
    public var qemuFormat: String? {
        switch self {
        case .raw: return "raw"
        case .qcow2: return "qcow2"
        case .vhd: return "vpc"
        case .vmdk: return "vmdk"
        case .gce: return nil
        }
    }

    /// The format a file name's extension suggests (raw for anything unknown).
    public init(fileName: String) {
        let ext = fileName.split(separator: ".").last.map(String.init) ?? ""
        switch ext {
        case "qcow2": self = .qcow2
        case "vhd": self = .vhd
        case "vmdk": self = .vmdk
        case "gz", "tgz": self = .gce
        default: self = .raw
        }
    }
}
