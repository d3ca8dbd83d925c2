import Crypto

/// The store directory every Kiln image (and Nix) uses.
public let nixStoreDirectory = "/nix/store"

/// SHA-256 of bytes or of a string's UTF-8, through swift-crypto.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
    public static func sha256(_ text: String) -> [UInt8] { sha256(Array(text.utf8)) }
    /// HMAC-SHA256 of `message` keyed with `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}

/// Nix's `makeStorePath`: `/nix/store/<hash>-<name>`, where the hash is the SHA-256 of
/// `<type>:sha256:<hex of hash>:<store dir>:<name>`, folded to 160 bits, in Nix's base-32.
/// `builtins.toFile`, `builtins.path` and derivations use it in NixLang; Kiln's own store
/// objects (packages, generated trees) use it with their own `type`.
public enum StorePathHash {
    /// The 32-character hash part.
    public static func hashPart(type: String, hash: [UInt8], name: String, storeDirectory: String = nixStoreDirectory) -> String {
        let fingerprint = "\(type):sha256:\(Hex.encode(hash)):\(storeDirectory):\(name)"
        return NixBase32.encode(NixBase32.fold(Digest.sha256(fingerprint), to: 20))
    }

    /// The whole path.
    public static func path(type: String, hash: [UInt8], name: String, storeDirectory: String = nixStoreDirectory) -> String {
        storeDirectory + "/" + hashPart(type: type, hash: hash, name: name, storeDirectory: storeDirectory) + "-" + name
    }
}
