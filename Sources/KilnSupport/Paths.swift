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

    /// Which setting `cacheDirectory` comes from, for messages: ("KILN_CACHE_DIR", its value), …
    static var cacheDirectorySetting: (name: String, value: String) {
        let env = ProcessInfo.processInfo.environment
        if let d = env["KILN_CACHE_DIR"], !d.isEmpty { return ("KILN_CACHE_DIR", d) }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return ("XDG_CACHE_HOME", x) }
        if let h = env["HOME"], !h.isEmpty { return ("HOME", h) }
        return ("the home directory", NSHomeDirectory())
    }

    /// Creates `path`, a folder in the cache `cache`, and the folders above it (mkdir -p).
    /// Done with mkdir(2), not FileManager: its errors on Linux often carry no errno, and
    /// say "The operation could not be completed. The file doesn't exist."
    /// - Throws: `KilnError` naming the folder that could not be made, the system's reason,
    ///   and the setting that chose the cache, with what to do about it.
    public static func createCacheFolder(_ path: String, cache: String = cacheDirectory) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty && !path.hasPrefix("/") ? "" : "/") + component
            if mkdir(prefix, 0o755) == 0 { continue }
            let code = errno
            var st = stat()
            if code == EEXIST || code == EACCES || code == EROFS, stat(prefix, &st) == 0 {
                // An existing folder is fine (EACCES and EROFS come before EEXIST for a folder
                // in one that cannot be written); an existing file is in the way.
                if (st.st_mode & S_IFMT) == S_IFDIR { continue }
                throw cacheFolderError(prefix, cache: cache, reason: "'\(prefix)' is a file, not a folder")
            }
            throw cacheFolderError(prefix, cache: cache, reason: String(cString: strerror(code)))
        }
    }

    /// The error for a folder that could not be made: the cache itself (or a folder above
    /// it), with the setting that chose it and what to do, or a folder inside it.
    static func cacheFolderError(_ folder: String, cache: String, reason: String) -> KilnError {
        let inside = folder.hasPrefix(cache + "/")
        let what = inside ? "cannot create '\(folder)' in Kiln's cache '\(cache)'" : "cannot create Kiln's cache '\(cache)'"
        let detail = inside || folder == cache || reason.hasPrefix("'") ? reason : "'\(folder)': \(reason)"
        guard cache == cacheDirectory else { return KilnError("\(what): \(detail)") }
        let setting = cacheDirectorySetting
        let hint = setting.name == "KILN_CACHE_DIR"
            ? "KILN_CACHE_DIR is '\(setting.value)'; set it to a folder you can create and write to, or unset it to use ~/.cache/kiln"
            : "the cache is under \(setting.name) ('\(setting.value)'); set KILN_CACHE_DIR to a folder you can create and write to"
        return KilnError("\(what): \(detail)", hint: hint)
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
        for dir in [cacheDirectory, cacheDirectory + "/store", cacheDirectory + "/debs", cacheDirectory + "/appliance",
                    cacheDirectory + "/python-bytecode"] {
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

    /// Records that a build (or kiln verify) used `path` of the cache: its modification time
    /// becomes now, which is what `kiln gc --max-size` orders by. Only the time of the cache's
    /// own file changes (never the content, nor anything an image copies). Failures are
    /// ignored: a cache shared with a user who may read but not write it still works, its
    /// order is just less exact; a missing file has nothing to record.
    /// - Parameter time: the time of the use; now when nil. A build gives every package it
    ///   used the same time, so that among them the order is the collector's, not the order
    ///   in which parallel unpacks happened to finish.
    public static func markUsed(_ path: String, at time: timespec? = nil) {
        guard let time else { _ = utimensat(AT_FDCWD, path, nil, 0); return }
        var times = [time, time]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// Now, as markUsed takes it.
    public static func now() -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return t
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
