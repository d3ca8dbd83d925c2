/// Deterministic UUIDs/GUIDs for images, derived as systemd-repart does: HMAC-SHA256 keyed
/// with the build's seed over a purpose string ("disk", "partition-root", ...), the first 16
/// bytes, with the RFC 4122 version-4 and variant bits set.
public enum SeededUUID {
    /// Purposes named by more than one writer (the disk's layout and the fstab that mounts it).
    public enum Purpose {
        public static let espPartition = "partition-esp"
    }

    public static func make(seed: [UInt8], purpose: String) -> [UInt8] {
        var bytes = Array(Digest.hmacSHA256(key: seed, message: Array(purpose.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return bytes
    }

    /// Lower-case text form of 16 bytes, "8-4-4-4-12".
    public static func string(_ bytes: [UInt8]) -> String {
        let hex = Array(Hex.encode(bytes))
        guard hex.count == 32 else { return String(hex) }
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }

    /// The 16 bytes of a "8-4-4-4-12" text form (either case), or nil if it is not one.
    public static func bytes(_ text: String) -> [UInt8]? {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12] else { return nil }
        return Hex.decode(String(text.filter { $0 != "-" }))
    }
}
