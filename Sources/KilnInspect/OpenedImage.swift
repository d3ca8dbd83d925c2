import Foundation
import KilnImage
import KilnStore
import KilnSupport

/// How `kiln verify`, `inspect` and `diff` reach libguestfs when they need it: its kernel
/// and whether KVM works, decided by the caller (the CLI knows the cache and the probe).
public struct GuestfsAccess: Sendable {
    public var kernel: @Sendable () throws -> ApplianceKernel?
    public var kvm: @Sendable () -> Bool
    /// Where libguestfs keeps the appliance it builds (its default is TMPDIR or /var/tmp):
    /// under Kiln's cache, with everything else Kiln keeps.
    public var applianceCache: String
    /// The cache's gc lock, held shared while the appliance is built and started: kiln gc
    /// (--max-size, --appliance) deletes the appliance only when nothing is starting it. Once
    /// started, QEMU holds its files open and their deletion does not reach it.
    public var gcLock: String?
    public init(kernel: @escaping @Sendable () throws -> ApplianceKernel?, kvm: @escaping @Sendable () -> Bool,
                applianceCache: String, gcLock: String? = nil) {
        self.kernel = kernel; self.kvm = kvm; self.applianceCache = applianceCache; self.gcLock = gcLock
    }
}

/// A disk image Kiln wrote, opened read-only: its root filesystem as a tree, with the
/// store registration and manifests the image carries.
public final class OpenedImage {
    public let path: String
    public let tree: FilesystemTree
    /// "ext4 (read by Kiln)" or "btrfs (read through libguestfs)".
    public let reader: String
    private let temporary: String?

    public init(_ path: String, guestfs: GuestfsAccess) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw KilnError.posix("cannot read the image '\(path)'")
        }
        let head = try Self.head(path)
        var raw = path
        var temporary: String?
        if head.starts(with: [0x1F, 0x8B]) {
            // A GCE image: disk.raw in a gzipped tar (sparse, which GNU tar restores).
            let dir = try KilnPaths.makeTemporaryDirectory("kiln-read")
            temporary = dir
            Progress.shared.begin("unpacking disk.raw from \(path)")
            do { try Tool.run(["tar", "-xzSf", path, "-C", dir, "disk.raw"]) } catch {
                try? FileManager.default.removeItem(atPath: dir)
                throw KilnError("'\(path)' is gzip-compressed but holds no disk.raw (is it a GCE image?)")
            }
            Progress.shared.end()
            raw = dir + "/disk.raw"
        } else if !Self.isRaw(head) {
            // qcow2, VHD, VMDK: qemu-img makes a sparse raw copy in seconds, which Kiln's
            // own reader then opens; libguestfs would need a minute just to start.
            guard head.starts(with: [0x51, 0x46, 0x49, 0xFB]) || head.starts(with: Array("conectix".utf8))
                    || head.starts(with: Array("KDMV".utf8)) || Self.isVHD(path) else {
                throw KilnError("'\(path)' is not a disk image Kiln can read (raw, qcow2, vhd, vmdk or a GCE .tar.gz)")
            }
            let dir = try KilnPaths.makeTemporaryDirectory("kiln-read")
            temporary = dir
            Progress.shared.begin("converting \(path) to raw")
            do { try Tool.run(["qemu-img", "convert", "-O", "raw", path, dir + "/disk.raw"]) } catch {
                try? FileManager.default.removeItem(atPath: dir)
                throw error
            }
            Progress.shared.end()
            raw = dir + "/disk.raw"
        }
        self.temporary = temporary
        do {
            let partitions = try DiskInfo.partitions(raw)
            guard let root = partitions.first(where: \.isRoot) else {
                throw KilnError("'\(path)' has no root partition of a type Kiln writes")
            }
            if Ext4Reader.isExt4(image: raw, offset: root.offset) {
                tree = try Ext4Reader(image: raw, offset: root.offset)
                reader = "ext4, read by Kiln"
            } else {
                // (A cache not made yet holds nothing gc could delete: no lock to take there.)
                var hold: FileLock?
                if let lock = guestfs.gcLock, FileManager.default.fileExists(atPath: (lock as NSString).deletingLastPathComponent) {
                    hold = try FileLock(lock, .shared, waiting: "waiting for kiln gc to finish with the cache")
                }
                Progress.shared.begin("starting libguestfs' appliance to read \(path) (about 35 s under TCG)")
                let g = try GuestfsTree(image: raw, format: "raw", kernel: guestfs.kernel(), kvm: guestfs.kvm(),
                                        cache: guestfs.applianceCache)
                Progress.shared.end()
                // kiln gc --max-size deletes the least recently used first; this is a use.
                KilnPaths.markUsed(guestfs.applianceCache)
                withExtendedLifetime(hold) {}
                tree = g
                reader = "\(g.filesystemType), read through libguestfs"
            }
            guard tree.exists(Registration.path) else {
                throw KilnError("'\(path)' holds no Kiln store registration (\(Registration.path)): was it written by an older Kiln or another tool?")
            }
        } catch {
            if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
            throw error
        }
    }

    deinit {
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }

    private static func head(_ path: String) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw KilnError.posix("cannot open the image '\(path)'") }
        defer { try? h.close() }
        return [UInt8](h.readData(ofLength: 1024))
    }

    private static func isRaw(_ head: [UInt8]) -> Bool {
        head.count >= 520 && Array(head[512..<520]) == Array("EFI PART".utf8)
    }

    /// A fixed VHD has its footer ("conectix") in the last 512 bytes.
    private static func isVHD(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end >= 512 else { return false }
        try? h.seek(toOffset: end - 512)
        return h.readData(ofLength: 8) == Data("conectix".utf8)
    }

    public func registration() throws -> Registration {
        let bytes = try tree.readFile(Registration.path)
        return try Registration(parsing: String(decoding: bytes, as: UTF8.self), source: "\(path):\(Registration.path)")
    }

    private var manifestFiles: [String: [UInt8]]?

    /// The manifest the image holds for `storePath`, checked against its own final hash.
    public func manifest(_ storePath: String) throws -> Manifest {
        let base = String(storePath.dropFirst("/nix/store/".count))
        let file = Registration.manifestsDirectory + "/" + base
        // All of them at once: one read of the folder, not one per store path.
        if manifestFiles == nil { manifestFiles = try tree.readFiles(under: Registration.manifestsDirectory) }
        guard let bytes = manifestFiles?[file] else { throw KilnError("\(path): the image has no manifest \(file)") }
        return try Manifest(parsing: String(decoding: bytes, as: UTF8.self), source: "\(path):\(file)")
    }
}
