import Foundation

/// Writes an output file under a temporary name in the same directory and renames it into
/// place only when complete, so a failed build leaves nothing half-written.
public struct AtomicOutput {
    public let finalPath: String
    public let temporaryPath: String

    /// - Throws: `KilnError` naming the path if its directory is missing or not writable.
    public init(_ path: String) throws {
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
        temporaryPath = dir + "/." + url.lastPathComponent + ".kiln-tmp-\(getpid())"
    }

    /// Moves the finished temporary file into place.
    public func commit() throws {
        if rename(temporaryPath, finalPath) != 0 {
            let err = String(cString: strerror(errno))
            discard()
            throw KilnError("cannot write output '\(finalPath)': \(err)")
        }
    }

    /// Removes the temporary file (after a failure).
    public func discard() {
        unlink(temporaryPath)
    }
}
