/// Nix's base-32 (the alphabet without e, o, u, t; least significant bits first), as
/// store path hashes and `sha256-…`/base32 hashes print.
public enum NixBase32 {
    static let alphabet = Array("0123456789abcdfghijklmnpqrsvwxyz".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "" }
        let len = (bytes.count * 8 - 1) / 5 + 1
        var out: [UInt8] = []
        out.reserveCapacity(len)
        for n in stride(from: len - 1, through: 0, by: -1) {
            let b = n * 5, i = b / 8, j = b % 8
            let lo = Int(bytes[i]) >> j
            let hi = i >= bytes.count - 1 ? 0 : Int(bytes[i + 1]) << (8 - j)
            out.append(alphabet[(lo | hi) & 0x1f])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes a base-32 string encodes, or nil if it has a character outside the
    /// alphabet or bits beyond its length.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        let size = chars.count * 5 / 8
        var out = [UInt8](repeating: 0, count: size)
        for (n, c) in chars.reversed().enumerated() {
            guard let digit = alphabet.firstIndex(of: c) else { return nil }
            let b = n * 5, i = b / 8, j = b % 8
            guard i < size else { if digit >> (8 - j) != 0 { return nil }; continue }
            out[i] |= UInt8(truncatingIfNeeded: digit << j)
            if i + 1 < size { out[i + 1] |= UInt8(truncatingIfNeeded: digit >> (8 - j)) } else if digit >> (8 - j) != 0 { return nil }
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
