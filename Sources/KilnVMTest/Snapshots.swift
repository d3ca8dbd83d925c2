import Foundation
import KilnPrimitives
import KilnSupport

/// Saved boots of test machines, for reruns that skip the boot: for each machine whose
/// generation and QEMU setup are unchanged, the QEMU state of the moment its backdoor first
/// answered (a migration stream, zstd-compressed) and its disk at that moment (a qcow2
/// overlay over the node's image, which itself is never written). In the cache under
/// `vm-snapshots/<key>/`; `kiln gc` trims them, and at most `keep` are kept.
public struct VMSnapshots: Sendable {
    public let root: String
    /// Slots kept after a new one is saved (least recently used go first). Enough for a whole
    /// suite's machines: with 8, this repository's 22 machines evicted the first tests' boots
    /// before the suite ended, and their reruns booted cold.
    public static let keep = 32

    public init(cacheDirectory: String) { root = cacheDirectory + "/vm-snapshots" }

    /// The slot for a machine described by `parts` (everything that decides its state when
    /// its backdoor first answers: generation, kernel command line, initrd, QEMU setup).
    public func slot(for parts: [String]) -> Slot {
        Slot(directory: root + "/" + Hex.encode(Digest.sha256(parts.joined(separator: "\u{0}")).prefix(16)))
    }

    /// One machine's saved boot. Several runs may save into a slot at once, so each writes a
    /// pair of its own (disk-TAG.qcow2, state-TAG.zst), and `ready` names the pair to use;
    /// it is replaced atomically.
    public struct Slot: Sendable {
        public let directory: String

        /// The pair to restore, when one was saved whole.
        public var saved: (disk: String, state: String)? {
            guard let tag = try? String(contentsOfFile: directory + "/ready", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                  !tag.isEmpty else { return nil }
            let pair = paths(tag)
            guard FileManager.default.fileExists(atPath: pair.disk), FileManager.default.fileExists(atPath: pair.state) else { return nil }
            return pair
        }

        func paths(_ tag: String) -> (disk: String, state: String) {
            (directory + "/disk-\(tag).qcow2", directory + "/state-\(tag).zst")
        }

        /// A tag no other run uses.
        static func newTag() -> String { "\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

        /// Makes `tag`'s pair the one to restore.
        func publish(_ tag: String) throws {
            let tmp = directory + "/ready.\(tag)"
            guard FileManager.default.createFile(atPath: tmp, contents: Data((tag + "\n").utf8)), rename(tmp, directory + "/ready") == 0 else {
                throw KilnError("cannot write \(directory)/ready")
            }
            touch()
        }

        /// Drops the slot (a saved state QEMU cannot load).
        func discard() { try? FileManager.default.removeItem(atPath: directory) }

        /// Marks the slot as used now (the trim keeps the most recently used).
        func touch() {
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: directory)
        }
    }

    /// Keeps the `keep` most recently used slots, and any used in the last hour (a suite that
    /// is still running may rerun it, or be booting from it).
    public func trim(keep: Int = VMSnapshots.keep) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root) else { return }
        let slots = names.map { root + "/" + $0 }
            .map { ($0, (try? fm.attributesOfItem(atPath: $0)[.modificationDate] as? Date) ?? .distantPast) }
            .sorted { $0.1 > $1.1 }
        for (path, used) in slots.dropFirst(keep) where Date().timeIntervalSince(used) > 3600 {
            try? fm.removeItem(atPath: path)
        }
    }

    /// Deletes every saved boot; returns the bytes freed (as du counts them).
    @discardableResult
    public func removeAll(dryRun: Bool = false) -> UInt64 {
        let fm = FileManager.default
        var bytes: UInt64 = 0
        if let walker = fm.enumerator(atPath: root) {
            for case let rel as String in walker {
                var st = stat()
                if lstat(root + "/" + rel, &st) == 0 { bytes += UInt64(st.st_blocks) * 512 }
            }
        }
        if !dryRun { try? fm.removeItem(atPath: root) }
        return bytes
    }
}
