import Foundation
import KilnPrimitives

/// The kind of a file-system entry, as NAR serialisation needs it.
public enum FileKind: Sendable, Equatable {
    case regular(executable: Bool)
    case directory
    case symlink(target: String)
}

extension EvalIO {
    public func readBytes(_ path: String) throws -> [UInt8] { Array(try readFile(path).utf8) }
    public func fileKind(_ path: String) -> FileKind? {
        if isDirectory(path) { return .directory }
        return pathExists(path) ? .regular(executable: false) : nil
    }
    public func listDirectory(_ path: String) throws -> [String] { [] }
}

extension RealEvalIO {
    public func fileKind(_ path: String) -> FileKind? {
        let fm = FileManager.default
        guard let attrs = try? fm.attributesOfItem(atPath: path), let type = attrs[.type] as? FileAttributeType else { return nil }
        if type == .typeSymbolicLink { return .symlink(target: (try? fm.destinationOfSymbolicLink(atPath: path)) ?? "") }
        if type == .typeDirectory { return .directory }
        let perms = (attrs[.posixPermissions] as? NSNumber)?.intValue ?? 0
        return .regular(executable: perms & 0o100 != 0)
    }
}

extension MemoryEvalIO {
    public func listDirectory(_ path: String) throws -> [String] {
        guard isDirectory(path) else { throw NixError.system("opening directory", path, files[path] == nil ? ENOENT : ENOTDIR) }
        let p = path.hasSuffix("/") ? path : path + "/"
        var names = Set<String>()
        for k in files.keys where k.hasPrefix(p) {
            if let first = k.dropFirst(p.count).split(separator: "/").first { names.insert(String(first)) }
        }
        return Array(names)
    }
}

/// NAR (Nix ARchive) serialisation of a file-system tree, as `nix-store --dump` writes it.
func narSerialise(_ path: String, io: EvalIO) throws -> [UInt8] {
    var out: [UInt8] = []
    func str(_ b: [UInt8]) {
        var n = UInt64(b.count)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: n)); n >>= 8 }
        out += b
        let pad = (8 - b.count % 8) % 8
        out += [UInt8](repeating: 0, count: pad)
    }
    func str(_ s: String) { str(Array(s.utf8)) }
    func node(_ p: String, depth: Int) throws {
        guard depth < 1000 else { throw NixError(.io, "directory nesting too deep at '\(p)'") }
        guard let kind = io.fileKind(p) else { throw NixError(.io, "getting status of '\(p)': No such file or directory") }
        str("(")
        switch kind {
        case .regular(let exec):
            str("type"); str("regular")
            if exec { str("executable"); str("") }
            str("contents"); str(try io.readBytes(p))
        case .symlink(let target):
            str("type"); str("symlink"); str("target"); str(target)
        case .directory:
            str("type"); str("directory")
            for name in try io.listDirectory(p).sorted(by: nixLess) {
                str("entry"); str("("); str("name"); str(name); str("node")
                try node(p + "/" + name, depth: depth + 1)
                str(")")
            }
        }
        str(")")
    }
    str("nix-archive-1")
    try node(path, depth: 0)
    return out
}

/// The store path `nix-instantiate` computes for a path it copies to the store
/// (`"${./p}"`, `builtins.path`): a recursive, SHA-256 fixed-output "source" path of its NAR.
public func storePathForPath(_ path: String, name: String? = nil, io: EvalIO) throws -> String {
    let nar = try narSerialise(path, io: io)
    return StorePathHash.path(type: "source", hash: sha256(nar), name: name ?? baseNameOf(path))
}
