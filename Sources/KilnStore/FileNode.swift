import Foundation
import KilnPrimitives

/// One object of a filesystem image (or of a store object's tree), with the exact metadata
/// it must carry. The image writers never look at the build host's owners, modes or
/// timestamps: what is written is what is listed here (plus the image-wide timestamp).
public struct FileNode: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case directory
        /// A regular file whose bytes are copied from this host file.
        case file(source: String)
        /// A small generated regular file.
        case data([UInt8])
        case symlink(target: String)
    }
    /// Absolute path inside the filesystem, e.g. "/nix/store/abc-bash/bin/bash" (relative
    /// inside a `GeneratedObject`). Parents are listed before their children; "/" may be
    /// listed to set the root directory's metadata.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (e.g. 0o4755); no file-type bits.
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    /// For a `.file` from the store: the SHA-256 its manifest records, which writers check
    /// while they copy the bytes.
    public var sha256: String?

    public init(path: String, kind: Kind, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0, sha256: String? = nil) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid; self.sha256 = sha256
    }

    public var size: Int64 {
        switch kind {
        case .data(let d): return Int64(d.count)
        default: return 0
        }
    }
}

/// A store object Kiln generates (sw, etc, initrd, kernel, toplevel). Its store path is the
/// hash of a canonical description of its entries, so equal inputs give equal paths.
public struct GeneratedObject: Sendable {
    public let name: String
    /// Relative path → node (path field unused until placed).
    public private(set) var entries: [String: FileNode] = [:]

    public init(name: String) { self.name = name }

    public mutating func directory(_ rel: String, mode: UInt16 = 0o755) {
        ensureParents(rel)
        if entries[rel] == nil { entries[rel] = FileNode(path: rel, kind: .directory, mode: mode) }
    }
    public mutating func data(_ rel: String, _ text: String, mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) {
        data(rel, Array(text.utf8), mode: mode, uid: uid, gid: gid)
    }
    public mutating func data(_ rel: String, _ bytes: [UInt8], mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) {
        ensureParents(rel)
        entries[rel] = FileNode(path: rel, kind: .data(bytes), mode: mode, uid: uid, gid: gid)
    }
    public mutating func symlink(_ rel: String, _ target: String) {
        ensureParents(rel)
        entries[rel] = FileNode(path: rel, kind: .symlink(target: target), mode: 0o777)
    }
    public mutating func file(_ rel: String, source: String, sha256: String, mode: UInt16) {
        ensureParents(rel)
        entries[rel] = FileNode(path: rel, kind: .file(source: source), mode: mode, sha256: sha256)
    }
    public func has(_ rel: String) -> Bool { entries[rel] != nil }
    public func isDirectory(_ rel: String) -> Bool { if case .directory? = entries[rel]?.kind { return true }; return false }
    public mutating func remove(_ rel: String) { entries[rel] = nil }

    private mutating func ensureParents(_ rel: String) {
        var parts = rel.split(separator: "/").dropLast()
        var prefixes: [String] = []
        while !parts.isEmpty { prefixes.append(parts.joined(separator: "/")); parts = parts.dropLast() }
        for p in prefixes.reversed() where entries[p] == nil { entries[p] = FileNode(path: p, kind: .directory, mode: 0o755) }
    }

    public var storePath: StorePath {
        var desc = ""
        for (rel, n) in entries.sorted(by: { $0.key < $1.key }) {
            switch n.kind {
            case .directory: desc += "d \(rel) \(n.mode)\n"
            case .symlink(let t): desc += "l \(rel) \(t)\n"
            case .data(let b): desc += "f \(rel) \(n.mode) \(n.uid):\(n.gid) \(Hex.encode(Digest.sha256(b))))\n"
            case .file: desc += "f \(rel) \(n.mode) \(n.sha256 ?? "")\n"
            }
        }
        return StorePath(type: "kiln-generated", contentHash: Digest.sha256(desc), name: name)
    }

    /// The object's nodes placed at its store path.
    public func nodes() -> [FileNode] {
        let base = storePath.path
        var out = [FileNode(path: base, kind: .directory, mode: 0o755)]
        for (rel, n) in entries {
            var placed = n
            placed.path = base + "/" + rel
            out.append(placed)
        }
        return out
    }

    /// The object's manifest. Its references are the store paths its links and generated
    /// files name (as Nix finds references by scanning an output for store path hashes).
    public func manifest() -> Manifest {
        var refs = Set<String>()
        var entries = [ManifestEntry(path: "", kind: .directory, mode: 0o755)]
        for (rel, n) in entries_sortedByPath() {
            switch n.kind {
            case .directory:
                entries.append(ManifestEntry(path: rel, kind: .directory, mode: n.mode, uid: n.uid, gid: n.gid))
            case .symlink(let t):
                refs.formUnion(StorePath.references(in: Array(t.utf8)))
                entries.append(ManifestEntry(path: rel, kind: .symlink, mode: 0o777, uid: n.uid, gid: n.gid, target: t))
            case .data(let b):
                refs.formUnion(StorePath.references(in: b))
                entries.append(ManifestEntry(path: rel, kind: .file, mode: n.mode, uid: n.uid, gid: n.gid, size: Int64(b.count),
                                             sha256: Hex.encode(Digest.sha256(b))))
            case .file(let source):
                var st = stat()
                let size = stat(source, &st) == 0 ? Int64(st.st_size) : 0
                entries.append(ManifestEntry(path: rel, kind: .file, mode: n.mode, uid: n.uid, gid: n.gid, size: size, sha256: n.sha256))
            }
        }
        refs.remove(storePath.path)
        return Manifest(storePath: storePath.path, references: Array(refs), entries: entries)
    }

    private func entries_sortedByPath() -> [(String, FileNode)] { entries.sorted { $0.key < $1.key } }
}

extension StorePath {
    /// The store paths named in `bytes`: "/nix/store/" followed by a 32-character Nix
    /// base-32 hash, a dash and a name.
    public static func references(in bytes: [UInt8]) -> Set<String> {
        let prefix = Array((storeDirectory + "/").utf8)
        var out = Set<String>()
        var i = 0
        let base32 = Set("0123456789abcdfghijklmnpqrsvwxyz".utf8)
        let nameChars = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=".utf8)
        while i + prefix.count + 33 <= bytes.count {
            guard bytes[i] == prefix[0], Array(bytes[i..<i + prefix.count]) == prefix else { i += 1; continue }
            let h = i + prefix.count
            guard bytes[h..<h + 32].allSatisfy(base32.contains), bytes[h + 32] == UInt8(ascii: "-") else { i += 1; continue }
            var end = h + 33
            while end < bytes.count, nameChars.contains(bytes[end]) { end += 1 }
            out.insert(String(decoding: bytes[i..<end], as: UTF8.self))
            i = end
        }
        return out
    }
}
