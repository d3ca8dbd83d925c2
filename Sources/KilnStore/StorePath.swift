import Foundation
import Crypto

/// `/nix/store/<32-char nix-base32 hash>-<name>`, hashed as Nix makes store paths:
/// SHA-256 of a fingerprint, folded to 160 bits, printed in Nix's base32.
public struct StorePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let storeDirectory = "/nix/store"
    public let hashPart: String
    public let name: String

    /// - Parameters:
    ///   - type: what kind of object ("kiln-deb", "kiln-generated"); part of the fingerprint.
    ///   - contentHash: SHA-256 of what identifies the object's content.
    public init(type: String, contentHash: [UInt8], name: String) {
        let hex = contentHash.map { String(format: "%02x", $0) }.joined()
        let cleanName = StorePath.sanitize(name)
        let fingerprint = "\(type):sha256:\(hex):\(StorePath.storeDirectory):\(cleanName)"
        let digest = Array(SHA256.hash(data: Data(fingerprint.utf8)))
        hashPart = NixBase32.encode(NixBase32.fold(digest, to: 20))
        self.name = cleanName
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

/// Nix's base32 (no e, o, u, t; least significant bits first).
public enum NixBase32 {
    static let alphabet = Array("0123456789abcdfghijklmnpqrsvwxyz")

    public static func encode(_ bytes: [UInt8]) -> String {
        let len = (bytes.count * 8 - 1) / 5 + 1
        var out = ""
        for n in stride(from: len - 1, through: 0, by: -1) {
            let b = n * 5
            let i = b / 8
            let j = b % 8
            let lo = Int(bytes[i]) >> j
            let hi = i + 1 < bytes.count ? Int(bytes[i + 1]) << (8 - j) : 0
            out.append(alphabet[(lo | hi) & 0x1f])
        }
        return out
    }

    /// XOR-folds a hash to `size` bytes (Nix's compressHash).
    public static func fold(_ hash: [UInt8], to size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        for (i, b) in hash.enumerated() { out[i % size] ^= b }
        return out
    }
}

func sha256Bytes(_ s: String) -> [UInt8] { Array(SHA256.hash(data: Data(s.utf8))) }
func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
