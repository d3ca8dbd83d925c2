import Foundation

/// Where Kiln keeps its host-side cache and its temporary files.
public enum KilnPaths {
    /// `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else `$HOME/.cache/kiln`.
    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["KILN_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/kiln" }
        if let h = env["HOME"], !h.isEmpty { return h + "/.cache/kiln" }
        return NSHomeDirectory() + "/.cache/kiln"
    }

    /// Where temporary folders go: `$TMPDIR`, else /tmp.
    public static var temporaryBase: String {
        let t = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return t.isEmpty ? "/tmp" : t
    }

    /// A fresh private temporary folder, `<prefix>.<pid>.XXXXXX`: the owner's PID in its name
    /// lets a later run remove it if this process was killed (`sweep`).
    public static func makeTemporaryDirectory(_ prefix: String = "kiln") throws -> String {
        let base = temporaryBase
        var template = Array((base + "/\(prefix).\(getpid()).XXXXXX").utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ buf in buf.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw KilnError.posix("cannot create a temporary folder in \(base)")
        }
        return String(cString: p)
    }

    /// Whether process `pid` is alive (kill -0; EPERM means it is, and someone else's).
    public static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Removes what killed kiln processes left behind: temporary folders of dead PIDs in
    /// TMPDIR, and in the cache downloads, unpacks, index updates and manifests that were
    /// never finished. Files of live processes and of other users are left alone.
    public static func sweep(cacheDirectory: String = cacheDirectory) {
        let fm = FileManager.default
        // "<prefix>.<pid>.XXXXXX" in TMPDIR (Kiln's prefixes only).
        for name in (try? fm.contentsOfDirectory(atPath: temporaryBase)) ?? [] where name.hasPrefix("kiln-") || name.hasPrefix("kvt.") {
            let parts = name.split(separator: ".")
            guard parts.count == 3, let pid = Int32(parts[1]), !isAlive(pid) else { continue }
            removeOwned(temporaryBase + "/" + name)
        }
        // "<name>.tmp-<pid>", ".download-<pid>", "<name>.old-<pid>" in the cache.
        for dir in [cacheDirectory, cacheDirectory + "/store", cacheDirectory + "/debs", cacheDirectory + "/appliance"] {
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                guard let pid = leftoverPID(name), !isAlive(pid) else { continue }
                removeOwned(dir + "/" + name)
            }
        }
    }

    /// The PID in a leftover's name (".tmp-PID", ".old-PID", ".download-PID", ".kiln-tmp-PID" at its end).
    public static func leftoverPID(_ name: String) -> Int32? {
        for marker in [".tmp-", ".old-", ".download-", ".kiln-tmp-"] {
            if let r = name.range(of: marker, options: .backwards), let pid = Int32(name[r.upperBound...]) { return pid }
        }
        return nil
    }

    /// Removes a file or folder tree we own, making read-only folders writable first.
    static func removeOwned(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_uid == getuid() else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            _ = try? Tool.run(["chmod", "-R", "u+rwX", path], check: false)
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
