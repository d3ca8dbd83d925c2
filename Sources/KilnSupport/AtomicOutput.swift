import Foundation

/// Writes an output file so that it appears whole or not at all, and nothing else ever
/// appears beside it: the writer writes `temporaryPath`, in a private folder under TMPDIR
/// (named with the writer's PID, so a later run sweeps it if this one is killed), and
/// `commit` moves the finished file into place: a rename on the same filesystem, or else a
/// copy into an unnamed file (O_TMPFILE) in the output's folder that gets its name only
/// once complete. A build killed at any moment leaves no file in the output's folder.
public struct AtomicOutput {
    public let finalPath: String
    public let temporaryPath: String
    private let workDirectory: String

    /// - Throws: `KilnError` naming the path if it is empty or a directory, or its directory is missing or not writable.
    public init(_ path: String) throws {
        // An empty name resolves to the current directory, which would be reported as the output
        // being a directory.
        guard !path.isEmpty else { throw KilnError("cannot write output: its name is empty") }
        let url = URL(fileURLWithPath: path)
        finalPath = url.path
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw KilnError("cannot write output '\(path)': directory '\(dir)' does not exist")
        }
        guard access(dir, W_OK) == 0 else {
            throw KilnError("cannot write output '\(path)': directory '\(dir)' is not writable")
        }
        if FileManager.default.fileExists(atPath: finalPath, isDirectory: &isDir), isDir.boolValue {
            throw KilnError("cannot write output '\(path)': it is a directory")
        }
        // A run killed between naming its copy and renaming it left that name: remove it.
        let prefix = "." + url.lastPathComponent + ".kiln-tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            if let pid = KilnPaths.leftoverPID(name), !KilnPaths.isAlive(pid) { KilnPaths.removeOwned(dir + "/" + name) }
        }
        workDirectory = try KilnPaths.makeTemporaryDirectory("kiln-output")
        temporaryPath = workDirectory + "/" + url.lastPathComponent
    }

    /// Moves the finished file into place.
    public func commit() throws {
        defer { discard() }
        if rename(temporaryPath, finalPath) == 0 { return }
        guard errno == EXDEV else { throw KilnError.posix("cannot write output '\(finalPath)'") }
        try copyIntoPlace()
    }

    /// Removes the unfinished file (after a failure; harmless after `commit`).
    public func discard() {
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    /// TMPDIR is another filesystem: copy (keeping holes) into a file without a name in the
    /// output's folder, name it, then rename it over the output.
    private func copyIntoPlace() throws {
        let dir = (finalPath as NSString).deletingLastPathComponent
        let src = open(temporaryPath, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw KilnError.posix("cannot read '\(temporaryPath)'") }
        defer { close(src) }
        let dst = open(dir, oTmpfile | O_WRONLY | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw KilnError.posix("cannot write output '\(finalPath)'") }
        defer { close(dst) }
        var st = stat()
        guard fstat(src, &st) == 0 else { throw KilnError.posix("cannot stat '\(temporaryPath)'") }
        let size = off_t(st.st_size)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: off_t = 0
        while offset < size {
            let data = lseek(src, offset, seekData)
            if data < 0 { break }   // only a hole is left
            var end = lseek(src, data, seekHole)
            if end < 0 { end = size }
            var at = data
            while at < end {
                let n = pread(src, buffer, min(1 << 20, Int(end - at)), at)
                if n < 0 { if errno == EINTR { continue }; throw KilnError.posix("cannot read '\(temporaryPath)'") }
                if n == 0 { break }
                var done = 0
                while done < n {
                    let w = pwrite(dst, buffer + done, n - done, at + off_t(done))
                    if w < 0 { if errno == EINTR { continue }; throw KilnError.posix("cannot write output '\(finalPath)'") }
                    done += w
                }
                at += off_t(n)
            }
            offset = end
        }
        guard ftruncate(dst, size) == 0, fsync(dst) == 0 else { throw KilnError.posix("cannot write output '\(finalPath)'") }
        let named = dir + "/." + (finalPath as NSString).lastPathComponent + ".kiln-tmp-\(getpid())"
        unlink(named)
        guard linkat(AT_FDCWD, "/proc/self/fd/\(dst)", AT_FDCWD, named, AT_SYMLINK_FOLLOW) == 0 else {
            throw KilnError.posix("cannot write output '\(finalPath)'")
        }
        guard rename(named, finalPath) == 0 else {
            let e = KilnError.posix("cannot write output '\(finalPath)'")
            unlink(named)
            throw e
        }
    }
}

// Linux's values (the same on x86_64 and aarch64); Glibc's module leaves these GNU names out.
private let oTmpfile: Int32 = 0o20200000   // O_TMPFILE (__O_TMPFILE | O_DIRECTORY)
private let seekData: Int32 = 3
private let seekHole: Int32 = 4
