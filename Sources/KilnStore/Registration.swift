import Foundation
import KilnPrimitives
import KilnSupport

/// The registry of the store paths a system holds (Nix's database of valid paths): each
/// path with its manifest's hash, its size and its references. Every image carries it at
/// `path`, next to each path's manifest under `manifestsDirectory`, so the running system
/// can list what it has, receive what it lacks and collect garbage, and `kiln verify` can
/// check an image's store file by file.
///
///     kiln-registration 1
///     <store path> <manifest SHA-256> <size> <reference>,<reference>,...   ("-": none)
public struct Registration: Sendable, Equatable {
    public static let path = "/nix/var/kiln/registration"
    public static let manifestsDirectory = "/nix/var/kiln/manifests"
    static let magic = "kiln-registration 1"

    public struct Entry: Sendable, Equatable {
        public var path: String
        public var hash: String
        public var size: Int64
        public var references: [String]
    }

    /// Sorted by path.
    public var entries: [Entry]

    public init(_ manifests: [Manifest]) {
        entries = manifests.map { Entry(path: $0.storePath, hash: $0.hash, size: $0.size, references: $0.references) }
            .sorted { $0.path < $1.path }
    }

    public var text: String {
        Self.magic + "\n" + entries.map { e in
            "\(e.path) \(e.hash) \(e.size) \(e.references.isEmpty ? "-" : e.references.joined(separator: ","))\n"
        }.joined()
    }

    /// - Throws: `KilnError` naming `source` and the first bad line.
    public init(parsing text: String, source: String) throws {
        var lines = text.split(separator: "\n")
        guard lines.first == Substring(Self.magic) else { throw KilnError("\(source) is not a Kiln store registration") }
        lines.removeFirst()
        entries = try lines.enumerated().map { n, line in
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 4, let size = Int64(f[2]), f[0].hasPrefix(nixStoreDirectory + "/") else {
                throw KilnError("\(source): line \(n + 2) is malformed")
            }
            return Entry(path: f[0], hash: f[1], size: size, references: f[3] == "-" ? [] : f[3].split(separator: ",").map(String.init))
        }
    }

    /// The registration and every manifest, as files of a root filesystem.
    public static func nodes(_ manifests: [Manifest]) -> [FileNode] {
        var out = [FileNode(path: "/nix/var/kiln/manifests", kind: .directory, mode: 0o755),
                   FileNode(path: path, kind: .data(Array(Registration(manifests).text.utf8)), mode: 0o644)]
        for m in manifests {
            let base = String(m.storePath.dropFirst(nixStoreDirectory.count + 1))
            out.append(FileNode(path: manifestsDirectory + "/" + base, kind: .data(Array(m.text.utf8)), mode: 0o444))
        }
        return out
    }
}
