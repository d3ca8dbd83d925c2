import Foundation
import KilnSupport

/// One entry of a filesystem read back from an image, as the image holds it (not as any
/// host would show it): what `kiln verify` compares with the store's manifests.
public struct TreeEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case directory, file, symlink, other }
    /// Absolute within the filesystem ("/nix/store/…").
    public var path: String
    public var kind: Kind
    /// Permission bits with setuid/setgid/sticky.
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    /// SHA-256 (hex) of a file's content, when the walk was asked to hash it.
    public var sha256: String?
    public var target: String?

    public init(path: String, kind: Kind, mode: UInt16, uid: UInt32, gid: UInt32, size: Int64,
                sha256: String? = nil, target: String? = nil) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.size = size; self.sha256 = sha256; self.target = target
    }
}

/// A filesystem of an image, read-only: Kiln's own ext4 reader, or libguestfs' appliance
/// for what Kiln cannot read itself (btrfs, foreign formats).
public protocol FilesystemTree: AnyObject {
    /// Every entry at and below `path` (symlinks not followed), sorted by path; files
    /// under a prefix `hashing` accepts come with their SHA-256.
    func entries(under path: String, hashing: (String) -> Bool) throws -> [TreeEntry]
    /// A file's bytes; symlinks on the way are followed inside the image.
    func readFile(_ path: String) throws -> [UInt8]
    /// The bytes of every regular file below the folder `path`, by path: one call where
    /// each `readFile` would be a round trip to libguestfs' appliance.
    func readFiles(under path: String) throws -> [String: [UInt8]]
    /// A symlink's target, not followed.
    func readLink(_ path: String) throws -> String
    /// Whether `path` exists (symlinks followed inside the image).
    func exists(_ path: String) -> Bool
}

extension FilesystemTree {
    /// `path` with every symlink resolved inside the image (absolute links point at the
    /// image's root, not the host's).
    public func resolve(_ path: String) throws -> String {
        var parts = path.split(separator: "/").map(String.init)
        var done: [String] = []
        var hops = 0
        while !parts.isEmpty {
            let name = parts.removeFirst()
            if name == "." { continue }
            if name == ".." { _ = done.popLast(); continue }
            let candidate = "/" + (done + [name]).joined(separator: "/")
            if let target = try? readLink(candidate) {
                hops += 1
                guard hops < 64 else { throw KilnError("too many symlinks resolving \(path) in the image") }
                if target.hasPrefix("/") { done = [] }
                parts = target.split(separator: "/").map(String.init) + parts
            } else {
                done.append(name)
            }
        }
        return "/" + done.joined(separator: "/")
    }
}
