import Foundation
import Crypto
import KilnSupport
import KilnPrimitives

/// APT with a private state directory under Kiln's cache: the host's sources, keyrings and
/// proxy settings, but its own indexes per target architecture and no effect on the host.
/// Runs unprivileged; the mirror is whatever the host's sources name.
public struct APTSource: Sendable {
    public let architecture: String
    public let stateDirectory: String
    public let debCache: String

    public init(cacheDirectory: String, architecture: String) {
        self.architecture = architecture
        stateDirectory = cacheDirectory + "/apt-" + architecture
        debCache = cacheDirectory + "/debs"
    }

    private var options: [String] {
        var o = [
            "-o", "Dir::State=\(stateDirectory)/state",
            "-o", "Dir::State::Lists=\(stateDirectory)/lists",
            "-o", "Dir::State::status=\(stateDirectory)/status",
            "-o", "Dir::Cache=\(stateDirectory)/cache",
            "-o", "Acquire::GzipIndexes=false",
            "-o", "Acquire::Languages=none",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Architecture=\(architecture)",
            "-o", "APT::Architectures=\(architecture)",
            "-o", "APT::Get::List-Cleanup=false",
        ]
        // As root APT drops to the _apt user, which cannot write the private directories.
        if getuid() == 0 { o += ["-o", "APT::Sandbox::User=root"] }
        return o
    }

    private func prepare() throws {
        let fm = FileManager.default
        for d in ["state", "lists/partial", "cache/archives/partial"] {
            try fm.createDirectory(atPath: stateDirectory + "/" + d, withIntermediateDirectories: true)
        }
        try fm.createDirectory(atPath: debCache, withIntermediateDirectories: true)
        if !fm.fileExists(atPath: stateDirectory + "/status") {
            _ = fm.createFile(atPath: stateDirectory + "/status", contents: Data())
        }
    }

    private var indexFiles: [String] {
        let dir = stateDirectory + "/lists"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix("_binary-\(architecture)_Packages") }.sorted().map { dir + "/" + $0 }
    }

    /// Downloads the package indexes (`apt-get update`) if there are none yet, or if `force`.
    public func update(force: Bool = false) throws {
        try prepare()
        if !force && !indexFiles.isEmpty { return }
        let progress = Progress.shared
        progress.begin("updating package indexes (\(architecture))")
        try Tool.run(["apt-get", "-q"] + options + ["update"])
        guard !indexFiles.isEmpty else {
            throw KilnError("APT found no package index for architecture \(architecture)",
                            hint: "check the host's APT sources (/etc/apt/sources.list, /etc/apt/sources.list.d)")
        }
        progress.end()
    }

    /// Reads every index of this architecture.
    public func loadIndex() throws -> PackageIndex {
        try update()
        var index = PackageIndex()
        for f in indexFiles {
            guard let data = FileManager.default.contents(atPath: f) else { throw KilnError("cannot read APT index '\(f)'") }
            index.add(packagesFile: data, architecture: architecture)
        }
        return index
    }

    /// The cached .deb for a locked package, downloading what is missing. Each file is
    /// checked against the SHA-256 the lock (from the signed index) records.
    public func fetch(_ packages: [LockedPackage]) throws -> [String: String] {
        try prepare()
        var paths: [String: String] = [:]
        var missing: [LockedPackage] = []
        for p in packages {
            let path = debCache + "/" + p.sha256 + ".deb"
            if FileManager.default.fileExists(atPath: path) { paths[p.name] = path } else { missing.append(p) }
        }
        guard !missing.isEmpty else { return paths }
        try update()
        let progress = Progress.shared
        let totalBytes = missing.reduce(0) { $0 + $1.size }
        progress.begin("fetching \(missing.count) packages (\(totalBytes / 1_000_000) MB)")
        let tmp = debCache + "/.download-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var done = 0
        for chunk in stride(from: 0, to: missing.count, by: 12).map({ Array(missing[$0..<min($0 + 12, missing.count)]) }) {
            let specs = chunk.map { "\($0.name):\($0.architecture)=\($0.version)" }
            let result = try Tool.run(["apt-get", "-q"] + options + ["download"] + specs, cwd: tmp, check: false)
            if result.status != 0 {
                let err = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("E:") }.joined(separator: "\n")
                throw KilnError("could not download packages \(specs.joined(separator: " ")):\n\(err)",
                                hint: "a locked version may have left the archive; run 'kiln lock --if-stale PROFILE' to move the pins to what the archive has now")
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: tmp)
            for p in chunk {
                let prefix = p.name + "_"
                guard let f = files.first(where: { $0.hasPrefix(prefix) && $0.hasSuffix("_\(p.architecture).deb") }) else {
                    throw KilnError("APT reported success but no .deb for \(p.name) \(p.version) appeared")
                }
                let src = tmp + "/" + f
                let actual = try sha256(ofFile: src)
                guard actual == p.sha256 else {
                    throw KilnError("hash mismatch for \(p.name) \(p.version) (\(p.filename)): expected sha256 \(p.sha256), got \(actual)")
                }
                let dst = debCache + "/" + p.sha256 + ".deb"
                if rename(src, dst) != 0 { throw KilnError("cannot move \(src) to \(dst): \(String(cString: strerror(errno)))") }
                paths[p.name] = dst
                done += 1
            }
            progress.update(done, of: missing.count, unit: "packages")
        }
        progress.end()
        return paths
    }
}

/// SHA-256 of a file, hex.
public func sha256(ofFile path: String) throws -> String {
    guard let h = FileHandle(forReadingAtPath: path) else { throw KilnError("cannot read '\(path)'") }
    defer { try? h.close() }
    var hasher = SHA256()
    while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return Hex.encode(hasher.finalize())
}
