import Foundation
import KilnPrimitives

/// `/nix/store/<32-char nix-base32 hash>-<name>`, hashed as Nix makes store paths:
/// SHA-256 of a fingerprint, folded to 160 bits, printed in Nix's base32.
public struct StorePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let storeDirectory = nixStoreDirectory
    public let hashPart: String
    public let name: String

    /// - Parameters:
    ///   - type: what kind of object ("kiln-deb", "kiln-generated"); part of the fingerprint.
    ///   - contentHash: SHA-256 of what identifies the object's content.
    public init(type: String, contentHash: [UInt8], name: String) {
        let cleanName = StorePath.sanitize(name)
        hashPart = StorePathHash.hashPart(type: type, hash: contentHash, name: cleanName)
        self.name = cleanName
    }

    /// A path as printed ("/nix/store/<hash>-<name>"), if it is one.
    public init?(parsing path: String) {
        let prefix = StorePath.storeDirectory + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let base = path.dropFirst(prefix.count)
        guard base.count > 33, base[base.index(base.startIndex, offsetBy: 32)] == "-", !base.contains("/") else { return nil }
        hashPart = String(base.prefix(32))
        name = String(base.dropFirst(33))
    }

    public var baseName: String { "\(hashPart)-\(name)" }
    public var path: String { "\(StorePath.storeDirectory)/\(baseName)" }
    public var description: String { path }
    public static func < (a: StorePath, b: StorePath) -> Bool { a.baseName < b.baseName }

    /// Store names allow `[A-Za-z0-9+._?=-]`; Debian versions may carry `:` and `~`.
    static func sanitize(_ name: String) -> String {
        String(name.map { c in
            (c.isASCII && (c.isLetter || c.isNumber)) || "+-._?=".contains(c) ? c : "_"
        })
    }
}
