import Foundation
import Crypto
import KilnPrimitives

// MARK: - Hashes for builtins.hashString, store paths and derivations

/// Lower-case hex digest of `data` with the named algorithm, or nil if unsupported.
func hashHex(_ algo: String, _ data: [UInt8]) -> String? {
    let digest: [UInt8]
    switch algo {
    case "sha256": digest = sha256(data)
    case "sha1": digest = sha1(data)
    case "md5": digest = md5(data)
    case "sha512": digest = sha512(data)
    default: return nil
    }
    return Hex.encode(digest)
}

func sha256(_ message: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: message)) }
func sha512(_ message: [UInt8]) -> [UInt8] { Array(SHA512.hash(data: message)) }
/// SHA-1 and MD5 are insecure, but Nix's `builtins.hashString` offers them.
func sha1(_ message: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: message)) }
func md5(_ message: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: message)) }
