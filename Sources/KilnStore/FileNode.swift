import Foundation
import Crypto

/// One entry of the image's root filesystem with its exact metadata.
public struct FileNode: Sendable {
    public enum Kind: Sendable {
        case directory
        /// Copy the bytes of a file on the build host.
        case file(source: String)
        /// Generated content.
        case data([UInt8])
        case symlink(String)
    }
    /// Absolute path inside the image.
    public var path: String
    public var kind: Kind
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32

    public init(_ path: String, _ kind: Kind, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0) {
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
struct GeneratedObject {
    let name: String
    /// Relative path → node (path field unused until placed).
    private(set) var entries: [String: FileNode] = [:]
    /// Content hashes of `.file` entries, known from their manifests.
    private var fileHashes: [String: String] = [:]

    init(name: String) { self.name = name }

    mutating func directory(_ rel: String, mode: UInt16 = 0o755) {
        ensureParents(rel)
        if entries[rel] == nil { entries[rel] = FileNode(rel, .directory, mode: mode) }
    }
    mutating func data(_ rel: String, _ text: String, mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) {
        data(rel, Array(text.utf8), mode: mode, uid: uid, gid: gid)
    }
    mutating func data(_ rel: String, _ bytes: [UInt8], mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) {
        ensureParents(rel)
        entries[rel] = FileNode(rel, .data(bytes), mode: mode, uid: uid, gid: gid)
    }
    mutating func symlink(_ rel: String, _ target: String) {
        ensureParents(rel)
        entries[rel] = FileNode(rel, .symlink(target), mode: 0o777)
    }
    mutating func file(_ rel: String, source: String, sha256: String, mode: UInt16) {
        ensureParents(rel)
        entries[rel] = FileNode(rel, .file(source: source), mode: mode)
        fileHashes[rel] = sha256
    }
    func has(_ rel: String) -> Bool { entries[rel] != nil }
    func isDirectory(_ rel: String) -> Bool { if case .directory? = entries[rel]?.kind { return true }; return false }
    mutating func remove(_ rel: String) { entries[rel] = nil }

    private mutating func ensureParents(_ rel: String) {
        var parts = rel.split(separator: "/").dropLast()
        var prefixes: [String] = []
        while !parts.isEmpty { prefixes.append(parts.joined(separator: "/")); parts = parts.dropLast() }
        for p in prefixes.reversed() where entries[p] == nil { entries[p] = FileNode(p, .directory, mode: 0o755) }
    }

    var storePath: StorePath {
        var desc = ""
        for (rel, n) in entries.sorted(by: { $0.key < $1.key }) {
            switch n.kind {
            case .directory: desc += "d \(rel) \(n.mode)\n"
            case .symlink(let t): desc += "l \(rel) \(t)\n"
            case .data(let b): desc += "f \(rel) \(n.mode) \(n.uid):\(n.gid) \(hex(Array(SHA256.hash(data: Data(b))))))\n"
            case .file: desc += "f \(rel) \(n.mode) \(fileHashes[rel] ?? "")\n"
            }
        }
        return StorePath(type: "kiln-generated", contentHash: sha256Bytes(desc), name: name)
    }

    /// The object's nodes placed at its store path.
    func nodes() -> [FileNode] {
        let base = storePath.path
        var out = [FileNode(base, .directory, mode: 0o755)]
        for (rel, n) in entries {
            var placed = n
            placed.path = base + "/" + rel
            out.append(placed)
        }
        return out
    }
}
