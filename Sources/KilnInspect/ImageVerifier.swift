import Foundation
import KilnImage
import KilnStore
import KilnSupport

/// `kiln verify IMAGE`: every store path of an image against the registration and the
/// manifests it carries (as `nix-store --verify --check-contents` checks a store against
/// its database), and every setuid or setgid file of the whole filesystem.
public struct ImageVerifier {
    public struct Report: Sendable {
        public var paths = 0
        public var files = 0
        public var bytes: Int64 = 0
        /// Setuid/setgid files, each "mode uid:gid path".
        public var privileged: [String] = []
        /// What does not match, each naming the path and what is wrong.
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    public init() {}

    public func verify(_ image: OpenedImage) throws -> Report {
        var report = Report()
        let progress = Progress.shared
        progress.begin("reading the store registration")
        let registration = try image.registration()
        var manifests: [String: Manifest] = [:]
        for e in registration.entries {
            do {
                let m = try image.manifest(e.path)
                if m.hash != e.hash {
                    report.problems.append("\(e.path): its manifest's hash is \(m.hash), the registration says \(e.hash)")
                } else if m.storePath != e.path {
                    report.problems.append("\(e.path): its manifest names \(m.storePath)")
                } else {
                    manifests[e.path] = m
                }
            } catch {
                report.problems.append("\(e.path): \(error.kilnMessage)")
            }
        }
        let registered = Set(registration.entries.map(\.path))
        for e in registration.entries {
            for r in e.references where !registered.contains(r) {
                report.problems.append("\(e.path) refers to \(r), which the image does not register")
            }
        }
        progress.end("\(registration.entries.count) paths")

        progress.begin("hashing every file of the image's store")
        let entries = try image.tree.entries(under: "/", hashing: { $0.hasPrefix("/nix/store/") })
        progress.end("\(entries.count) entries")
        var byStorePath: [String: [String: TreeEntry]] = [:]
        for e in entries {
            if e.kind != .directory && e.mode & 0o6000 != 0 {
                report.privileged.append("\(String(e.mode, radix: 8)) \(e.uid):\(e.gid) \(e.path)")
                // A privileged file must be root's and writable by nobody else.
                if e.mode & 0o4000 != 0 && e.uid != 0 {
                    report.problems.append("\(e.path) is setuid but owned by uid \(e.uid), not root")
                }
                if e.mode & 0o022 != 0 {
                    report.problems.append("\(e.path) is setuid/setgid and writable by group or others (mode \(String(e.mode, radix: 8)))")
                }
                if !e.path.hasPrefix("/nix/store/") {
                    report.problems.append("\(e.path) is setuid/setgid outside the store: no manifest vouches for it")
                }
            }
            guard e.path.hasPrefix("/nix/store/") else { continue }
            let rest = e.path.dropFirst("/nix/store/".count)
            let top = rest.split(separator: "/", maxSplits: 1)
            let storePath = "/nix/store/" + top[0]
            byStorePath[storePath, default: [:]][top.count > 1 ? String(top[1]) : ""] = e
        }
        for storePath in byStorePath.keys.sorted() where manifests[storePath] == nil && !registered.contains(storePath) {
            report.problems.append("\(storePath) is in the store but not registered")
        }
        for (storePath, manifest) in manifests.sorted(by: { $0.key < $1.key }) {
            guard var found = byStorePath[storePath] else {
                report.problems.append("\(storePath) is registered but missing from the store")
                continue
            }
            report.paths += 1
            for m in manifest.entries {
                let shown = m.path.isEmpty ? storePath : storePath + "/" + m.path
                guard let e = found.removeValue(forKey: m.path) else {
                    report.problems.append("\(shown) is missing")
                    continue
                }
                let kind: TreeEntry.Kind = m.kind == .directory ? .directory : m.kind == .file ? .file : .symlink
                if e.kind != kind { report.problems.append("\(shown) is a \(e.kind), its manifest says \(kind)"); continue }
                if e.mode != m.mode && m.kind != .symlink {
                    report.problems.append("\(shown) has mode \(String(e.mode, radix: 8)), its manifest says \(String(m.mode, radix: 8))")
                }
                if e.uid != m.uid || e.gid != m.gid {
                    report.problems.append("\(shown) belongs to \(e.uid):\(e.gid), its manifest says \(m.uid):\(m.gid)")
                }
                switch m.kind {
                case .file:
                    report.files += 1
                    report.bytes += e.size
                    if e.size != m.size {
                        report.problems.append("\(shown) has \(e.size) bytes, its manifest says \(m.size)")
                    } else if let want = m.sha256, e.sha256 != want {
                        report.problems.append("\(shown): its SHA-256 is \(e.sha256 ?? "?"), its manifest says \(want)")
                    }
                case .symlink:
                    if e.target != m.target { report.problems.append("\(shown) points at \(e.target ?? "?"), its manifest says \(m.target ?? "?")") }
                case .directory: break
                }
            }
            for rel in found.keys.sorted() {
                report.problems.append("\(storePath)/\(rel) is not in its manifest")
            }
        }
        return report
    }
}
