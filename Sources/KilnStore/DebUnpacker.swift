import Foundation
import KilnPrimitives
import Crypto
import CArchive
import KilnSupport

/// Unpacks a .deb's data archive with libarchive into a store object directory and records
/// the archive's own metadata (modes, owners, link targets) in a manifest. The files on disk
/// belong to the build user and stay readable; the manifest is what the image gets.
enum DebUnpacker {
    /// - Throws: `KilnError` naming the .deb and the libarchive error.
    static func unpack(deb: String, into directory: String, packageName: String) throws -> [ManifestEntry] {
        let data = try dataMember(of: deb)
        guard let a = archive_read_new() else { throw KilnError("libarchive: out of memory") }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        let status = data.withUnsafeBytes { raw in archive_read_open_memory(a, raw.baseAddress, raw.count) }
        guard status == ARCHIVE_OK else { throw archiveError(a, "reading data archive of \(deb)") }

        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [String: ManifestEntry] = [:]
        entries[""] = ManifestEntry(path: "", kind: .directory, mode: 0o755, uid: 0, gid: 0, size: 0, sha256: nil, target: nil)
        var entry: OpaquePointer?
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }

        while true {
            let r = archive_read_next_header(a, &entry)
            if r == ARCHIVE_EOF { break }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else { throw archiveError(a, "reading \(deb)") }
            guard let cpath = archive_entry_pathname(entry) else { continue }
            let path = try normalize(String(cString: cpath), deb: deb)
            if path.isEmpty { continue }
            try ensureParents(path, entries: &entries, directory: directory)
            // Nothing in the store is writable by others: a package's 1777 tmp folders (base-files'
            // tmp, var/tmp, var/lock) are folders to copy from, never to write into (the
            // image has its own /tmp); the store is read-only on the machine.
            let kind = archive_entry_filetype(entry)
            let raw = UInt16(archive_entry_perm(entry) & 0o7777)
            let mode = kind == 0o040000 ? raw & ~0o1002 : raw & ~0o002
            let uid = UInt32(truncatingIfNeeded: archive_entry_uid(entry))
            let gid = UInt32(truncatingIfNeeded: archive_entry_gid(entry))
            let host = directory + "/" + path

            if let hl = archive_entry_hardlink(entry) {
                // A hard link in the archive becomes a copy with the original's metadata.
                let target = try normalize(String(cString: hl), deb: deb)
                guard let original = entries[target], original.kind == .file else {
                    throw KilnError("\(deb): hard link '\(path)' points to '\(target)', which is not an earlier file")
                }
                try? fm.removeItem(atPath: host)
                try fm.copyItem(atPath: directory + "/" + target, toPath: host)
                var copy = original
                copy.path = path
                entries[path] = copy
                continue
            }
            switch kind {
            case 0o040000:  // AE_IFDIR (a macro with a cast, not imported)
                try fm.createDirectory(atPath: host, withIntermediateDirectories: true)
                entries[path] = ManifestEntry(path: path, kind: .directory, mode: mode, uid: uid, gid: gid, size: 0, sha256: nil, target: nil)
            case 0o120000:  // AE_IFLNK
                guard let t = archive_entry_symlink(entry) else { throw KilnError("\(deb): symlink '\(path)' has no target") }
                let target = String(cString: t)
                try? fm.removeItem(atPath: host)
                try fm.createSymbolicLink(atPath: host, withDestinationPath: target)
                entries[path] = ManifestEntry(path: path, kind: .symlink, mode: 0o777, uid: uid, gid: gid, size: Int64(target.utf8.count), sha256: nil, target: target)
            case 0o100000:  // AE_IFREG
                let hostMode: mode_t = (mode & 0o111) != 0 ? 0o755 : 0o644
                let fd = open(host, O_WRONLY | O_CREAT | O_TRUNC, hostMode)
                guard fd >= 0 else { throw KilnError("cannot create '\(host)': \(String(cString: strerror(errno)))") }
                var hasher = SHA256()
                var size: Int64 = 0
                while true {
                    let n = archive_read_data(a, buffer, bufferSize)
                    if n == 0 { break }
                    guard n > 0 else { close(fd); throw archiveError(a, "extracting '\(path)' from \(deb)") }
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
                    var off = 0
                    while off < n {
                        let w = write(fd, buffer + off, n - off)
                        guard w > 0 else { close(fd); throw KilnError("cannot write '\(host)': \(String(cString: strerror(errno)))") }
                        off += w
                    }
                    size += Int64(n)
                }
                close(fd)
                let digest = Hex.encode(hasher.finalize())
                entries[path] = ManifestEntry(path: path, kind: .file, mode: mode, uid: uid, gid: gid, size: size, sha256: digest, target: nil)
            default:
                // Device nodes and FIFOs do not belong in packages' data; devtmpfs provides devices.
                continue
            }
        }
        return entries.values.sorted { $0.path < $1.path }
    }

    /// Parent directories the archive did not list get root-owned 0755 entries.
    private static func ensureParents(_ path: String, entries: inout [String: ManifestEntry], directory: String) throws {
        var parent = (path as NSString).deletingLastPathComponent
        var missing: [String] = []
        while !parent.isEmpty && entries[parent] == nil {
            missing.append(parent)
            parent = (parent as NSString).deletingLastPathComponent
        }
        for p in missing.reversed() {
            try FileManager.default.createDirectory(atPath: directory + "/" + p, withIntermediateDirectories: true)
            entries[p] = ManifestEntry(path: p, kind: .directory, mode: 0o755, uid: 0, gid: 0, size: 0, sha256: nil, target: nil)
        }
    }

    private static func normalize(_ raw: String, deb: String) throws -> String {
        var p = raw
        while p.hasPrefix("./") { p.removeFirst(2) }
        while p.hasPrefix("/") { p.removeFirst() }
        while p.hasSuffix("/") { p.removeLast() }
        if p == "." { return "" }
        let parts = p.split(separator: "/")
        if parts.contains("..") { throw KilnError("\(deb): refusing archive member '\(raw)' that leaves the package") }
        return parts.joined(separator: "/")
    }

    /// The bytes of the `data.tar.*` member of the .deb (an ar archive).
    private static func dataMember(of deb: String) throws -> Data {
        guard let a = archive_read_new() else { throw KilnError("libarchive: out of memory") }
        defer { archive_read_free(a) }
        archive_read_support_format_ar(a)
        guard archive_read_open_filename(a, deb, 1 << 16) == ARCHIVE_OK else { throw archiveError(a, "opening \(deb)") }
        var entry: OpaquePointer?
        while archive_read_next_header(a, &entry) == ARCHIVE_OK {
            guard let entry, let name = archive_entry_pathname(entry) else { continue }
            guard String(cString: name).hasPrefix("data.tar") else { continue }
            var out = Data()
            let size = archive_entry_size(entry)
            if size > 0 { out.reserveCapacity(Int(size)) }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buf.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
                if n == 0 { break }
                guard n > 0 else { throw archiveError(a, "reading data member of \(deb)") }
                out.append(contentsOf: buf[0..<n])
            }
            return out
        }
        throw KilnError("\(deb) is not a Debian package: it has no data.tar member")
    }

    private static func archiveError(_ a: OpaquePointer, _ what: String) -> KilnError {
        let msg = archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
        return KilnError("\(what): \(msg)")
    }
}
