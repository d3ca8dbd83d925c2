import CArchive
import Foundation
import KilnPrimitives
import KilnStore
import KilnSupport

/// The store paths a machine lacks, as the tar stream its `kiln-receive` takes: each path's
/// tree (`<base>/...`, with the owners and modes of its manifest, every date the store's),
/// then `.manifests/<base>`, each path's manifest, which kiln-receive checks every file
/// against before anything is renamed into the store. Written with libarchive (pax).
enum ClosureStream {
    /// - Parameters:
    ///   - nodes: the paths' file trees, absolute (/nix/store/<base>/...), parents first.
    ///   - manifests: each path's manifest.
    ///   - sent: called with the file bytes written so far.
    static func write(nodes: [FileNode], manifests: [Manifest], to fd: Int32, sent: (Int64) -> Void) throws {
        guard let a = archive_write_new() else { throw KilnError("libarchive: cannot make a writer") }
        defer { archive_write_free(a) }
        func check(_ rc: Int32, _ what: String) throws {
            if rc < ARCHIVE_WARN {
                let why = archive_error_string(a).map { String(cString: $0) } ?? "error \(rc)"
                throw KilnError("sending the store paths (\(what)): \(why)")
            }
        }
        try check(archive_write_set_format_pax_restricted(a), "tar format")
        try check(archive_write_open_fd(a, fd), "opening the stream")
        guard let entry = archive_entry_new() else { throw KilnError("libarchive: cannot make an entry") }
        defer { archive_entry_free(entry) }
        let prefix = nixStoreDirectory + "/"
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)

        func header(_ path: String, type: mode_t, mode: UInt16, uid: UInt32, gid: UInt32, size: Int64, link: String? = nil) throws {
            archive_entry_clear(entry)
            archive_entry_set_pathname(entry, path)
            archive_entry_set_filetype(entry, UInt32(type))
            archive_entry_set_perm(entry, mode_t(mode))
            archive_entry_set_uid(entry, la_int64_t(uid))
            archive_entry_set_gid(entry, la_int64_t(gid))
            archive_entry_set_mtime(entry, 1, 0)
            archive_entry_set_size(entry, size)
            if let link { archive_entry_set_symlink(entry, link) }
            try check(archive_write_header(a, entry), path)
        }
        func data(_ bytes: UnsafeRawBufferPointer, _ path: String) throws {
            var off = 0
            while off < bytes.count {
                let n = archive_write_data(a, bytes.baseAddress?.advanced(by: off), bytes.count - off)
                if n < 0 { try check(Int32(n), path) }
                if n <= 0 { throw KilnError("sending \(path): the stream stopped") }
                off += n
            }
            total += Int64(bytes.count)
            sent(total)
        }

        for n in nodes where n.path.hasPrefix(prefix) {
            let rel = String(n.path.dropFirst(prefix.count))
            switch n.kind {
            case .directory:
                try header(rel, type: S_IFDIR, mode: n.mode, uid: n.uid, gid: n.gid, size: 0)
            case .symlink(let target):
                try header(rel, type: S_IFLNK, mode: 0o777, uid: n.uid, gid: n.gid, size: 0, link: target)
            case .data(let bytes):
                try header(rel, type: S_IFREG, mode: n.mode, uid: n.uid, gid: n.gid, size: Int64(bytes.count))
                try bytes.withUnsafeBytes { try data($0, rel) }
            case .file(let source):
                let fdIn = open(source, O_RDONLY | O_CLOEXEC)
                guard fdIn >= 0 else { throw KilnError.posix("cannot read store file \(source)") }
                defer { close(fdIn) }
                var st = stat()
                guard fstat(fdIn, &st) == 0 else { throw KilnError.posix("cannot stat store file \(source)") }
                try header(rel, type: S_IFREG, mode: n.mode, uid: n.uid, gid: n.gid, size: Int64(st.st_size))
                var left = Int64(st.st_size)
                while left > 0 {
                    let got = buffer.withUnsafeMutableBytes { read(fdIn, $0.baseAddress, $0.count) }
                    if got < 0 { if errno == EINTR { continue }; throw KilnError.posix("reading store file \(source)") }
                    if got == 0 { throw KilnError("store file \(source) shrank while it was sent") }
                    try buffer.withUnsafeBytes { try data(UnsafeRawBufferPointer(rebasing: $0.prefix(got)), rel) }
                    left -= Int64(got)
                }
            }
        }
        try header(".manifests", type: S_IFDIR, mode: 0o755, uid: 0, gid: 0, size: 0)
        for m in manifests {
            let bytes = Array(m.text.utf8)
            let rel = ".manifests/" + String(m.storePath.dropFirst(prefix.count))
            try header(rel, type: S_IFREG, mode: 0o444, uid: 0, gid: 0, size: Int64(bytes.count))
            try bytes.withUnsafeBytes { try data($0, rel) }
        }
        try check(archive_write_close(a), "closing the stream")
    }
}
