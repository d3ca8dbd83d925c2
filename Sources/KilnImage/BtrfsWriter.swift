import Foundation
import KilnSupport
import KilnPrimitives
import Crypto
import KilnStore

/// Parameters of a btrfs image.
public struct BtrfsOptions: Sendable {
    /// Size of the image file in bytes (at least 256 MiB; mkfs.btrfs needs room for DUP metadata).
    public var sizeBytes: UInt64
    public var label: String
    /// Filesystem UUID, text form.
    public var uuid: String
    /// mtime and atime of every entry.
    public var timestamp: UInt32

    public init(sizeBytes: UInt64, label: String, uuid: String, timestamp: UInt32) {
        self.sizeBytes = sizeBytes; self.label = label; self.uuid = uuid; self.timestamp = timestamp
    }
}

/// btrfs root filesystems, written by Debian's `mkfs.btrfs --rootdir` — there is no btrfs
/// library to write one in-process as libext2fs does for ext4, and btrfs-progs is the
/// reference implementation of the format.
///
/// How the metadata comes out right without privilege: the entries are materialised in a
/// temporary tree (files copied, never linked, so nothing in the store is touched), then one
/// `fakeroot` session (an LD_PRELOAD library: no privilege, namespace or setuid helper)
/// applies the manifests' owners and modes with chown/chmod and runs mkfs.btrfs in the same
/// session, so mkfs.btrfs's lstat() sees the faked root:root, 04755 `su` and so on. mtime and
/// atime are set to SOURCE_DATE_EPOCH; the filesystem UUID comes from the seed.
///
/// Not bit-reproducible (measured with btrfs-progs 6.2): mkfs.btrfs takes each inode's
/// number from the source tree's st_ino (whatever the host filesystem allocated), copies
/// ctime (which user space cannot set), and draws the device and chunk-tree UUIDs at random
/// with no option to fix them; two builds differ in ~350 KB of metadata. Everything else is
/// the same: the partition table, ESP and boot loader bytes, and the filesystem's names,
/// contents, owners and modes (Tests/integration/matrix.sh checks this).
public enum BtrfsWriter {
    public static func write(_ entries: [FileNode], to path: String, options: BtrfsOptions,
                             progress: KilnSupport.Progress?) throws {
        guard options.sizeBytes >= 256 << 20 else {
            throw KilnError("btrfs image size \(options.sizeBytes) bytes is below the 256 MiB minimum")
        }
        progress?.begin("writing btrfs root (mkfs.btrfs under fakeroot)")
        let work = try KilnPaths.makeTemporaryDirectory("kiln-btrfs")
        defer {
            // Directories may have lost their write bit from the manifest's modes.
            _ = try? Tool.run(["chmod", "-R", "u+rwX", work], check: false)
            try? FileManager.default.removeItem(atPath: work)
        }
        let tree = work + "/tree"
        guard mkdir(tree, 0o755) == 0 else { throw KilnError("cannot create '\(tree)': \(String(cString: strerror(errno)))") }

        // Materialise. Real modes stay owner-writable until fakeroot applies the manifest's.
        var owners: [String: [String]] = [:]   // "uid:gid" -> relative paths
        var modes: [UInt16: [String]] = [:]
        var directories: [String] = []
        var all: [String] = []
        for e in entries {
            let rel = e.path == "/" ? "." : "." + e.path
            let host = tree + (e.path == "/" ? "" : e.path)
            switch e.kind {
            case .directory:
                if e.path != "/" && mkdir(host, 0o755) != 0 && errno != EEXIST {
                    throw KilnError("btrfs: cannot create directory '\(host)': \(String(cString: strerror(errno)))")
                }
                directories.append(host)
            case .file(let source):
                try copyFile(source, to: host)
                // What mkfs.btrfs will read is the copy: check it against the manifest.
                if let expected = e.sha256 {
                    let actual = try fileSHA256(host)
                    guard actual == expected else { throw ContentMismatch(path: e.path, source: source, expected: expected, actual: actual) }
                }
            case .data(let d):
                guard FileManager.default.createFile(atPath: host, contents: Data(d)) else {
                    throw KilnError("btrfs: cannot write '\(host)'")
                }
            case .symlink(let target):
                guard symlink(target, host) == 0 else {
                    throw KilnError("btrfs: cannot create symlink '\(host)': \(String(cString: strerror(errno)))")
                }
            }
            all.append(host)
            if e.uid != 0 || e.gid != 0 { owners["\(e.uid):\(e.gid)", default: []].append(rel) }
            if case .symlink = e.kind {} else { modes[e.mode, default: []].append(rel) }
        }
        // Times last, children before parents (creating a child changes its directory's mtime).
        var ts = [timespec(tv_sec: Int(options.timestamp), tv_nsec: 0), timespec(tv_sec: Int(options.timestamp), tv_nsec: 0)]
        for host in all.reversed() + [tree] where utimensat(AT_FDCWD, host, &ts, AT_SYMLINK_NOFOLLOW) != 0 {
            throw KilnError("btrfs: cannot set the times of '\(host)': \(String(cString: strerror(errno)))")
        }
        _ = directories

        // The fakeroot session: owners, then modes (chown would clear setuid bits), then mkfs.
        var script = "set -e\ncd \(Tool.shellQuoted([tree]))\nchown -hR 0:0 .\n"
        func list(_ name: String, _ paths: [String]) throws -> String {
            let file = work + "/" + name
            let data = Data(paths.joined(separator: "\0").utf8 + [0])
            guard FileManager.default.createFile(atPath: file, contents: data) else { throw KilnError("cannot write '\(file)'") }
            return Tool.shellQuoted([file])
        }
        for (i, owner) in owners.keys.sorted().enumerated() {
            script += "xargs -0 -r chown -h \(owner) < \(try list("owner-\(i)", owners[owner] ?? []))\n"
        }
        for (i, mode) in modes.keys.sorted().enumerated() {
            script += "xargs -0 -r chmod \(String(mode, radix: 8)) < \(try list("mode-\(i)", modes[mode] ?? []))\n"
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), truncate(path, off_t(options.sizeBytes)) == 0 else {
            throw KilnError("cannot create '\(path)' of \(options.sizeBytes) bytes")
        }
        script += Tool.shellQuoted(["mkfs.btrfs", "-q", "-f", "--rootdir", tree, "-L", options.label, "-U", options.uuid,
                                    "-b", String(options.sizeBytes), path]) + "\n"
        let scriptPath = work + "/apply.sh"
        guard FileManager.default.createFile(atPath: scriptPath, contents: Data(script.utf8)) else {
            throw KilnError("cannot write '\(scriptPath)'")
        }
        try Tool.run(["fakeroot", "--", "sh", scriptPath], environment: ["SOURCE_DATE_EPOCH": String(options.timestamp)])
        progress?.end("\(entries.count) entries")
    }

    private static func fileSHA256(_ path: String) throws -> String {
        let f = try OpenFile(path, flags: O_RDONLY)
        var hasher = SHA256()
        var offset: UInt64 = 0
        while true {
            let chunk = try f.read(count: 1 << 20, at: offset)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            offset += UInt64(chunk.count)
        }
        return Hex.encode(hasher.finalize())
    }

    private static func copyFile(_ source: String, to destination: String) throws {
        let input = try OpenFile(source, flags: O_RDONLY)
        let size = try input.size
        try createSparseFile(destination, size: size)
        if size > 0 { try copySparse(from: input, to: OpenFile(destination, flags: O_RDWR), at: 0) }
    }
}
