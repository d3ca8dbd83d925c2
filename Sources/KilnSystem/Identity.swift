import Foundation
import KilnPrimitives

/// What makes one image differ from another built from the same inputs: nothing random.
public struct ImageIdentity: Sendable {
    /// Seed for every UUID, GUID and salt (HMAC-SHA256 over a purpose string).
    public var seed: [UInt8]
    /// The root filesystem's UUID, text form.
    public var rootUUID: String
    /// SOURCE_DATE_EPOCH: every timestamp in the image.
    public var timestamp: UInt32

    /// The ESP's GPT partition GUID (DiskAssembler derives it from the same seed and purpose;
    /// `kiln switch` sets the machine's).
    public var espPartitionUUID: String

    public init(seed: [UInt8], rootUUID: String, timestamp: UInt32) {
        self.seed = seed; self.rootUUID = rootUUID; self.timestamp = timestamp
        espPartitionUUID = SeededUUID.string(SeededUUID.make(seed: seed, purpose: SeededUUID.Purpose.espPartition))
    }

    /// The identity of an image of host `hostName`: the seed is `seed` (default: the host
    /// name), the timestamp SOURCE_DATE_EPOCH or, like the Nix store's mtime, 1.
    public init(seed: String?, hostName: String, sourceDateEpoch: String? = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"]) {
        let bytes = Digest.sha256("kiln-image-seed:" + (seed ?? hostName))
        self.init(seed: bytes, rootUUID: SeededUUID.string(SeededUUID.make(seed: bytes, purpose: "root-filesystem")),
                  timestamp: sourceDateEpoch.flatMap { UInt32($0) } ?? 1)
    }
}
