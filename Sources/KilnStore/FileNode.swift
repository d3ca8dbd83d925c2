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

    public init(path: String, kind: Kind, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
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
    /// Content hashes of `.file` entries, known from their manifests.
    private var fileHashes: [String: String] = [:]

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
        entries[rel] = FileNode(path: rel, kind: .file(source: source), mode: mode)
        fileHashes[rel] = sha256
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
            case .file: desc += "f \(rel) \(n.mode) \(fileHashes[rel] ?? "")\n"
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
}
