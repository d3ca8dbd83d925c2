import CExt2fs
import Crypto
import Foundation
import KilnPrimitives
import KilnSupport

/// Reads an ext4 filesystem inside an image file through libext2fs, in-process and without
/// root: the inverse of `Ext4Writer`, for `kiln verify`, `inspect` and `diff`. Reading a
/// whole store this way takes seconds where libguestfs' appliance, under TCG, takes minutes.
public final class Ext4Reader: FilesystemTree {
    private let fs: ext2_filsys
    private let source: String

    /// Opens the ext4 filesystem that starts `offset` bytes into `image`.
    public init(image: String, offset: UInt64) throws {
        source = "the ext4 filesystem at byte \(offset) of '\(image)'"
        var opened: ext2_filsys?
        try ext2fsCheck(ext2fs_open2(image, "offset=\(offset)", EXT2_FLAG_64BITS, 0, 0, CExt2fs_unix_io_manager(), &opened),
                        "ext2fs_open2", "reading \(source)")
        guard let opened else { throw KilnError("reading \(source): ext2fs_open2 returned no filesystem") }
        fs = opened
    }

    deinit { ext2fs_close2(fs, 0) }

    /// Whether the bytes at `offset` of `image` start an ext2/3/4 superblock.
    public static func isExt4(image: String, offset: UInt64) -> Bool {
        guard let f = try? OpenFile(image, flags: O_RDONLY), let b = try? f.read(count: 2, at: offset + 1024 + 56) else { return false }
        return b == [0x53, 0xEF]
    }

    private func lookup(_ path: String, follow: Bool) throws -> ext2_ino_t {
        var ino: ext2_ino_t = 0
        let root = ext2_ino_t(EXT2_ROOT_INO)
        let code = follow ? ext2fs_namei_follow(fs, root, root, path, &ino) : ext2fs_namei(fs, root, root, path, &ino)
        try ext2fsCheck(code, "looking up \(path)", "reading \(source)")
        return ino
    }

    private func inode(_ ino: ext2_ino_t, _ path: String) throws -> ext2_inode {
        var inode = ext2_inode()
        try ext2fsCheck(ext2fs_read_inode(fs, ino, &inode), "reading the inode of \(path)", "reading \(source)")
        return inode
    }

    public func exists(_ path: String) -> Bool { (try? lookup(path, follow: true)) != nil }

    public func readLink(_ path: String) throws -> String {
        let ino = try lookup(path, follow: false)
        var node = try inode(ino, path)
        guard node.i_mode & 0o170000 == 0o120000 else { throw KilnError("\(path) is not a symlink in \(source)") }
        return String(decoding: try linkTarget(ino, &node, path), as: UTF8.self)
    }

    public func readFile(_ path: String) throws -> [UInt8] {
        let ino = try lookup(path, follow: true)
        var node = try inode(ino, path)
        var out: [UInt8] = []
        try readContent(ino, &node, path) { out.append(contentsOf: $0) }
        return out
    }

    public func readFiles(under path: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for e in try entries(under: path, hashing: { _ in false }) where e.kind == .file {
            out[e.path] = try readFile(e.path)
        }
        return out
    }

    public func entries(under path: String, hashing: (String) -> Bool) throws -> [TreeEntry] {
        var out: [TreeEntry] = []
        let start = try lookup(path, follow: false)
        try walk(start, path: path == "/" ? "" : path, hashing: hashing, into: &out)
        return out
    }

    private func walk(_ ino: ext2_ino_t, path: String, hashing: (String) -> Bool, into out: inout [TreeEntry]) throws {
        let shown = path.isEmpty ? "/" : path
        var node = try inode(ino, shown)
        let format = node.i_mode & 0o170000
        let uid = UInt32(node.i_uid) | UInt32(node.osd2.linux2.l_i_uid_high) << 16
        let gid = UInt32(node.i_gid) | UInt32(node.osd2.linux2.l_i_gid_high) << 16
        let size = Int64(UInt64(node.i_size) | UInt64(node.i_size_high) << 32)
        var entry = TreeEntry(path: shown, kind: .other, mode: node.i_mode & 0o7777, uid: uid, gid: gid, size: size)
        switch format {
        case 0o040000:
            entry.kind = .directory; entry.size = 0
            out.append(entry)
            for (name, child) in try children(ino, shown) {
                try walk(child, path: path + "/" + name, hashing: hashing, into: &out)
            }
            return
        case 0o100000:
            entry.kind = .file
            if hashing(shown) {
                var hasher = SHA256()
                try readContent(ino, &node, shown) { hasher.update(data: $0) }
                entry.sha256 = Hex.encode(hasher.finalize())
            }
        case 0o120000:
            entry.kind = .symlink; entry.size = 0
            entry.target = String(decoding: try linkTarget(ino, &node, shown), as: UTF8.self)
        default:
            entry.size = 0
        }
        out.append(entry)
    }

    /// A directory's entries but . and .., sorted by name.
    private func children(_ dir: ext2_ino_t, _ path: String) throws -> [(String, ext2_ino_t)] {
        final class Collected { var names: [(String, ext2_ino_t)] = [] }
        let collected = Collected()
        let callback: @convention(c) (ext2_ino_t, Int32, UnsafeMutablePointer<ext2_dir_entry>?, Int32, Int32,
                                      UnsafeMutablePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32 = { _, _, dirent, _, _, _, priv in
            guard let dirent, let priv else { return 0 }
            let length = Int(ext2fs_dirent_name_len(dirent))
            let name = withUnsafeBytes(of: &dirent.pointee.name) { String(decoding: $0.prefix(length), as: UTF8.self) }
            if name != "." && name != ".." && dirent.pointee.inode != 0 {
                Unmanaged<Collected>.fromOpaque(priv).takeUnretainedValue().names.append((name, dirent.pointee.inode))
            }
            return 0
        }
        let code = withExtendedLifetime(collected) {
            ext2fs_dir_iterate2(fs, dir, 0, nil, callback, Unmanaged.passUnretained(collected).toOpaque())
        }
        try ext2fsCheck(code, "listing \(path)", "reading \(source)")
        return collected.names.sorted { $0.0 < $1.0 }
    }

    private func linkTarget(_ ino: ext2_ino_t, _ node: inout ext2_inode, _ path: String) throws -> [UInt8] {
        let size = Int(node.i_size)
        if ext2fs_is_fast_symlink(&node) != 0 {
            return withUnsafeBytes(of: &node.i_block) { Array($0.prefix(size)) }
        }
        var out: [UInt8] = []
        try readContent(ino, &node, path) { out.append(contentsOf: $0) }
        return Array(out.prefix(size))
    }

    /// Feeds a file's bytes to `consume` a megabyte at a time.
    private func readContent(_ ino: ext2_ino_t, _ node: inout ext2_inode, _ path: String,
                             _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        if node.i_flags & UInt32(EXT4_INLINE_DATA_FL) != 0 {
            var buffer = [UInt8](repeating: 0, count: Int(node.i_size) + 60)
            var got = 0
            try ext2fsCheck(buffer.withUnsafeMutableBytes { ext2fs_inline_data_get(fs, ino, &node, $0.baseAddress, &got) },
                            "reading the inline data of \(path)", "reading \(source)")
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0.prefix(got))) }
            return
        }
        var file: ext2_file_t?
        try ext2fsCheck(ext2fs_file_open2(fs, ino, &node, 0, &file), "opening \(path)", "reading \(source)")
        guard let file else { throw KilnError("reading \(source): ext2fs_file_open2 gave no file for \(path)") }
        defer { ext2fs_file_close(file) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            var got: UInt32 = 0
            try ext2fsCheck(ext2fs_file_read(file, buffer, UInt32(chunk), &got), "reading \(path)", "reading \(source)")
            if got == 0 { break }
            try consume(UnsafeRawBufferPointer(start: buffer, count: Int(got)))
        }
    }
}
