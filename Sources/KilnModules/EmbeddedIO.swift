import Foundation
import NixLang

/// The files `kiln` carries inside it (embed.txt: the modules and the machine descriptions),
/// seen by the evaluator under `/__kiln__/` (as Nix places its own built-in files under
/// `/__corepkgs__/`): a copied binary works from any directory, and no path of the machine
/// it was built on shows up in a message.
public enum Embedded {
    /// Where the embedded files appear to the evaluator.
    public static let root = "/__kiln__"
    /// The shipped modules (module-list.nix, lib, eval-modules.nix, testing.nix).
    public static let modulesDirectory = root + "/modules"
    /// The shipped machine descriptions (hardware/*.nix of the checkout).
    public static let hardwareDirectory = root + "/hardware"

    /// Relative path ("modules/lib.nix") → bytes, decoded once.
    static let files: [String: [UInt8]] = {
        var out: [String: [UInt8]] = [:]
        for (path, b64) in EmbeddedFiles.files {
            out[path] = Data(base64Encoded: b64).map { [UInt8]($0) } ?? []
        }
        return out
    }()

    /// The names of the shipped machine descriptions ("qemu-x86_64", ...), sorted.
    public static var hardwareNames: [String] {
        files.keys.filter { $0.hasPrefix("hardware/") && $0.hasSuffix(".nix") }
            .map { String($0.dropFirst("hardware/".count).dropLast(4)) }.sorted()
    }

    /// A developer's override: with `KILN_MODULES_DIR` set, modules are read from that folder
    /// (edit and rerun without rebuilding kiln).
    static let modulesOverride: String? = {
        guard let d = ProcessInfo.processInfo.environment["KILN_MODULES_DIR"], !d.isEmpty else { return nil }
        return d
    }()
}

/// The host's files, with `/__kiln__/` served from what kiln carries.
public struct KilnEvalIO: EvalIO {
    private let host = RealEvalIO()
    public init() {}

    /// The embedded relative path of a virtual path, or nil when it is a host path.
    private func embedded(_ path: String) -> String? {
        guard path == Embedded.root || path.hasPrefix(Embedded.root + "/") else { return nil }
        return String(path.dropFirst(Embedded.root.count + 1))
    }

    /// The host path that stands in for a virtual one under the developer's override.
    private func overridden(_ rel: String) -> String? {
        guard let dir = Embedded.modulesOverride else { return nil }
        if rel == "modules" { return dir }
        return rel.hasPrefix("modules/") ? dir + "/" + rel.dropFirst("modules/".count) : nil
    }

    public func readFile(_ path: String) throws -> String { try decodeUTF8(readBytes(path), file: path) }

    public func readBytes(_ path: String) throws -> [UInt8] {
        guard let rel = embedded(path) else { return try host.readBytes(path) }
        if let real = overridden(rel) { return try host.readBytes(real) }
        guard let bytes = Embedded.files[rel] else {
            if isDirectory(path) { throw NixError.system("reading file", path, EISDIR) }
            throw NixError.system("opening file", path, ENOENT)
        }
        return bytes
    }

    public func pathExists(_ path: String) -> Bool {
        guard let rel = embedded(path) else { return host.pathExists(path) }
        if let real = overridden(rel) { return host.pathExists(real) }
        return Embedded.files[rel] != nil || isDirectory(path)
    }

    public func isDirectory(_ path: String) -> Bool {
        guard let rel = embedded(path) else { return host.isDirectory(path) }
        if let real = overridden(rel) { return host.isDirectory(real) }
        let prefix = rel.isEmpty ? "" : rel + "/"
        return Embedded.files.keys.contains { $0.hasPrefix(prefix) }
    }

    public func fileKind(_ path: String) -> FileKind? {
        guard let rel = embedded(path) else { return host.fileKind(path) }
        if let real = overridden(rel) { return host.fileKind(real) }
        if Embedded.files[rel] != nil { return .regular(executable: false) }
        return isDirectory(path) ? .directory : nil
    }

    public func listDirectory(_ path: String) throws -> [String] {
        guard let rel = embedded(path) else { return try host.listDirectory(path) }
        if let real = overridden(rel) { return try host.listDirectory(real) }
        let prefix = rel.isEmpty ? "" : rel + "/"
        var names = Set<String>()
        for k in Embedded.files.keys where k.hasPrefix(prefix) {
            if let first = k.dropFirst(prefix.count).split(separator: "/").first { names.insert(String(first)) }
        }
        guard !names.isEmpty else { throw NixError.system("opening directory", path, Embedded.files[rel] == nil ? ENOENT : ENOTDIR) }
        return names.sorted()
    }

    public func getEnv(_ name: String) -> String? { host.getEnv(name) }
}
