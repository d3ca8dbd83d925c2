import CArchive
import CGuestfs
import CGuestfsLoader
import Crypto
import Foundation
import KilnImage
import KilnPrimitives
import KilnSupport

/// The kernel libguestfs' appliance boots. Debian's libguestfs builds its appliance from the
/// host's packages and the host's kernel; a machine without a kernel of its own (a container,
/// a CI runner) or whose /boot/vmlinuz only root may read gets one from Kiln's store instead.
public struct ApplianceKernel: Sendable {
    public var kernel: String
    /// A lib/modules/<version> folder with depmod's indexes.
    public var modules: String
    public init(kernel: String, modules: String) { self.kernel = kernel; self.modules = modules }
}

/// A filesystem of an image read through libguestfs' appliance (a small VM): for what
/// Kiln's own readers cannot open, btrfs above all. Read-only: the image is added with
/// readonly=1, so nothing can change it. Each launch costs ~35 s under TCG.
public final class GuestfsTree: FilesystemTree {
    private let g: OpaquePointer
    private let image: String
    /// The device holding the root filesystem, e.g. /dev/sda3.
    public private(set) var device = ""
    public private(set) var filesystemType = ""

    /// Launches the appliance on `image` and mounts the filesystem holding a Kiln store
    /// registration at the appliance's /.
    /// - Parameters:
    ///   - format: "raw" or "qcow2"; never guessed (a raw image could otherwise claim to be anything).
    ///   - kernel: the appliance's kernel when the host has none libguestfs can use.
    ///   - kvm: whether the host's KVM works; without it the appliance runs under TCG.
    ///   - cache: the folder for the appliance libguestfs builds once and reuses.
    public init(image: String, format: String, kernel: ApplianceKernel?, kvm: Bool, cache: String) throws {
        self.image = image
        if let kernel {
            // supermin reads these; a user's own settings win.
            setenv("SUPERMIN_KERNEL", kernel.kernel, 0)
            setenv("SUPERMIN_MODULES", kernel.modules, 0)
        }
        guard FileManager.default.fileExists(atPath: "/lib/modules") else {
            throw KilnError("libguestfs cannot build its appliance here: the folder /lib/modules does not exist (supermin copies it; Debian creates it with any kernel or kmod)",
                            hint: "create it once as root: mkdir -p /lib/modules (scripts/install-deps.sh does)")
        }
        guard let handle = guestfs_create() else {
            if let why = kiln_guestfs_load_error() {
                throw KilnError("libguestfs could not be loaded: \(String(cString: why))", hint: "install Debian's libguestfs0 (scripts/install-deps.sh does)")
            }
            throw KilnError("libguestfs: guestfs_create failed")
        }
        g = handle
        // Errors are read with guestfs_last_error and reported once, by Kiln.
        guestfs_set_error_handler(g, nil, nil)
        try check(guestfs_set_backend(g, "direct"), "choosing the direct backend")
        if getenv("LIBGUESTFS_CACHEDIR") == nil {
            try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
            try check(guestfs_set_cachedir(g, cache), "choosing \(cache) for the appliance")
        }
        if !kvm && getenv("LIBGUESTFS_BACKEND_SETTINGS") == nil {
            var settings: [UnsafeMutablePointer<CChar>?] = [strdup("force_tcg"), nil]
            defer { settings.forEach { free($0) } }
            let rc = settings.withUnsafeMutableBufferPointer { guestfs_set_backend_settings(handle, $0.baseAddress) }
            try check(rc, "forcing TCG")
        }
        _ = guestfs_set_smp(g, 2)
        var options = guestfs_add_drive_opts_argv()
        options.bitmask = CGuestfs_add_drive_readonly | CGuestfs_add_drive_format
        options.readonly = 1
        try format.withCString { f in
            options.format = f
            let rc = guestfs_add_drive_opts_argv(handle, image, &options)
            try check(rc, "adding \(image)")
        }
        try check(guestfs_launch(g), "starting the appliance")
        guard let list = guestfs_list_filesystems(g) else { throw lastError("listing the filesystems of \(image)") }
        var pairs: [String] = []
        var i = 0
        while let p = list[i] { pairs.append(String(cString: p)); free(p); i += 1 }
        free(list)
        var found: (String, String)?
        for k in stride(from: 0, to: pairs.count - 1, by: 2) where ["ext4", "ext3", "ext2", "btrfs", "xfs"].contains(pairs[k + 1]) {
            guard guestfs_mount_ro(g, pairs[k], "/") == 0 else { continue }
            if guestfs_is_file(g, "/nix/var/kiln/registration") == 1 { found = (pairs[k], pairs[k + 1]); break }
            _ = guestfs_umount_all(g)
        }
        guard let found else {
            throw KilnError("'\(image)' has no filesystem holding a Kiln store registration (/nix/var/kiln/registration): is it an image Kiln wrote?")
        }
        (device, filesystemType) = found
    }

    deinit {
        _ = guestfs_shutdown(g)
        guestfs_close(g)
    }

    private func lastError(_ doing: String) -> KilnError {
        let text = guestfs_last_error(g).map { String(cString: $0) } ?? "unknown error"
        return KilnError("libguestfs, \(doing) in '\(image)': \(text)")
    }

    private func check(_ rc: Int32, _ doing: String) throws {
        if rc == -1 { throw lastError(doing) }
    }

    public func exists(_ path: String) -> Bool {
        guard let real = try? resolve(path) else { return false }
        return guestfs_exists(g, real) == 1
    }

    public func readLink(_ path: String) throws -> String {
        guard guestfs_is_symlink(g, path) == 1 else { throw KilnError("\(path) is not a symlink in '\(image)'") }
        guard let p = guestfs_readlink(g, path) else { throw lastError("reading the link \(path)") }
        defer { free(p) }
        return String(cString: p)
    }

    public func readFile(_ path: String) throws -> [UInt8] {
        let real = try resolve(path)
        var size = 0
        guard let p = guestfs_read_file(g, real, &size) else { throw lastError("reading \(path)") }
        defer { free(p) }
        return Array(UnsafeRawBufferPointer(start: p, count: size))
    }

    /// `tar_out` of the folder into a temporary file, read back with libarchive: one call
    /// into the appliance, whatever the number of files.
    public func entries(under path: String, hashing: (String) -> Bool) throws -> [TreeEntry] {
        try tarOut(path) { try Self.readTar($0, root: path, hashing: hashing, keep: nil) }
    }

    public func readFiles(under path: String) throws -> [String: [UInt8]] {
        try tarOut(path) { tar in
            var kept: [String: [UInt8]] = [:]
            _ = try Self.readTar(tar, root: path, hashing: { _ in false }, keep: { kept[$0] = $1 })
            return kept
        }
    }

    private func tarOut<T>(_ path: String, _ read: (String) throws -> T) throws -> T {
        let dir = try KilnPaths.makeTemporaryDirectory("kiln-guestfs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tar = dir + "/tree.tar"
        var options = guestfs_tar_out_opts_argv()
        options.bitmask = CGuestfs_tar_out_numericowner
        options.numericowner = 1
        try check(guestfs_tar_out_opts_argv(g, path, tar, &options), "copying out \(path)")
        return try read(tar)
    }

    /// The entries of a tar file; with `keep`, regular files' bytes go to it instead of a hash.
    static func readTar(_ tar: String, root: String, hashing: (String) -> Bool,
                        keep: ((String, [UInt8]) -> Void)?) throws -> [TreeEntry] {
        guard let a = archive_read_new() else { throw KilnError("libarchive: archive_read_new failed") }
        defer { archive_read_free(a) }
        archive_read_support_format_tar(a)
        guard archive_read_open_filename(a, tar, 1 << 20) == ARCHIVE_OK else {
            throw KilnError("cannot read \(tar): \(archive_error_string(a).map { String(cString: $0) } ?? "")")
        }
        let base = root == "/" ? "" : root
        var out: [TreeEntry] = []
        var entry: OpaquePointer?
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let rc = archive_read_next_header(a, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else {
                throw KilnError("cannot read \(tar): \(archive_error_string(a).map { String(cString: $0) } ?? "")")
            }
            var rel = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            if rel.hasPrefix("./") { rel.removeFirst(2) }
            while rel.hasSuffix("/") { rel.removeLast() }
            let path = rel.isEmpty || rel == "." ? (base.isEmpty ? "/" : base) : base + "/" + rel
            var e = TreeEntry(path: path, kind: .other, mode: UInt16(archive_entry_perm(entry) & 0o7777),
                              uid: UInt32(archive_entry_uid(entry)), gid: UInt32(archive_entry_gid(entry)), size: 0)
            switch archive_entry_filetype(entry) {
            case 0o040000: e.kind = .directory
            case 0o120000:
                e.kind = .symlink
                e.target = archive_entry_symlink(entry).map { String(cString: $0) }
            case 0o100000:
                e.kind = .file
                e.size = archive_entry_size(entry)
                if let keep {
                    var bytes: [UInt8] = []
                    while true {
                        let n = archive_read_data(a, buffer, 1 << 20)
                        guard n >= 0 else { throw KilnError("cannot read \(path) from \(tar)") }
                        if n == 0 { break }
                        bytes += UnsafeRawBufferPointer(start: buffer, count: n)
                    }
                    keep(path, bytes)
                } else if hashing(path) {
                    var hasher = SHA256()
                    while true {
                        let n = archive_read_data(a, buffer, 1 << 20)
                        guard n >= 0 else { throw KilnError("cannot read \(path) from \(tar)") }
                        if n == 0 { break }
                        hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
                    }
                    e.sha256 = Hex.encode(hasher.finalize())
                }
            default: break
            }
            out.append(e)
        }
        return out.sorted { $0.path < $1.path }
    }
}
