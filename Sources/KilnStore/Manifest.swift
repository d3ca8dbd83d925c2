import Foundation

/// One entry of a store object: the truth about ownership and modes, whoever owns the files
/// on the build host. Image writers apply it, which is what makes unprivileged builds correct.
public struct ManifestEntry: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case directory = "d", file = "f", symlink = "l" }
    /// Relative to the store object's root, no leading slash; "" is the root itself.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky.
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    /// SHA-256 of a file's content, hex.
    public var sha256: String?
    public var target: String?

    public init(path: String, kind: Kind, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0, size: Int64 = 0,
                sha256: String? = nil, target: String? = nil) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.size = size; self.sha256 = sha256; self.target = target
    }
}

/// The manifest of a store object.
public struct Manifest: Codable, Sendable {
    public var storePath: String
    public var references: [String]
    public var entries: [ManifestEntry]

    public init(storePath: String, references: [String], entries: [ManifestEntry]) {
        self.storePath = storePath; self.references = references; self.entries = entries
    }
}
