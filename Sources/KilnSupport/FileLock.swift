import Foundation

/// An advisory lock on a file (flock), held until released or the process ends: the kernel
/// drops it when a process dies, so a killed kiln never leaves a cache locked. Many kiln
/// processes share one cache; these locks make its updates one at a time.
public final class FileLock: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public enum Mode: Sendable { case shared, exclusive }

    /// Takes the lock, waiting for other holders; `waiting` is said once if it has to wait.
    /// - Throws: `KilnError` naming the lock file if it cannot be opened.
    public init(_ path: String, _ mode: Mode = .exclusive, waiting: String? = nil) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw KilnError.posix("cannot open the lock file '\(path)'") }
        let op = mode == .exclusive ? LOCK_EX : LOCK_SH
        if flock(fd, op | LOCK_NB) != 0 {
            if let waiting { Progress.shared.note(waiting) }
            while flock(fd, op) != 0 {
                guard errno == EINTR else {
                    let e = KilnError.posix("cannot lock '\(path)'")
                    close(fd)
                    throw e
                }
            }
        }
    }

    /// Takes the lock only if no one holds it; nil otherwise.
    public static func attempt(_ path: String, _ mode: Mode = .exclusive) -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        guard flock(fd, (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else { close(fd); return nil }
        return FileLock(path: path, fd: fd)
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }

    deinit { close(fd) }
}

extension KilnError {
    /// An error for a failed system call: `what`, then errno's text (ENOSPC says where to free room).
    public static func posix(_ what: String, _ code: Int32 = errno) -> KilnError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC: return KilnError("\(what): \(reason)", hint: "free some space there, or point TMPDIR (temporary files) or KILN_CACHE_DIR (the cache) at a larger disk")
        case EACCES, EPERM: return KilnError("\(what): \(reason)", hint: "check the owner and permissions of that folder (kiln runs as \(NSUserName()))")
        default: return KilnError("\(what): \(reason)")
        }
    }
}

extension NSError {
    /// The POSIX errno under a Foundation file error, if there is one, so messages can say
    /// "Permission denied" instead of dumping the NSError. Foundation on Linux often gives a
    /// Cocoa code with no underlying error (mkdir in /proc: NSFileNoSuchFileError, shown as
    /// "The operation could not be completed. The file doesn't exist."); those map to the
    /// errno they stand for.
    public var posixCode: Int32? {
        if domain == NSPOSIXErrorDomain { return Int32(code) }
        if let underlying = (userInfo[NSUnderlyingErrorKey] as? NSError)?.posixCode { return underlying }
        guard domain == NSCocoaErrorDomain else { return nil }
        switch code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return ENOENT
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return EACCES
        case NSFileWriteFileExistsError: return EEXIST
        case NSFileWriteOutOfSpaceError: return ENOSPC
        case NSFileWriteVolumeReadOnlyError: return EROFS
        case NSFileReadTooLargeError: return EFBIG
        case NSFileReadInvalidFileNameError, NSFileWriteInvalidFileNameError: return EINVAL
        default: return nil
        }
    }

    /// Whether this is an error of Foundation's file APIs (or a wrapped errno).
    var isFileError: Bool { domain == NSCocoaErrorDomain || domain == NSPOSIXErrorDomain }
}

extension Error {
    /// Why a Foundation call failed, as the system says it ("No such file or directory"),
    /// not as the NSError's localized description does.
    public var systemReason: String {
        let ns = self as NSError
        if let code = ns.posixCode { return String(cString: strerror(code)) }
        return ns.localizedDescription
    }
}

extension KilnError {
    /// `what`, then why the Foundation call behind `error` failed, with posix(_:_:)'s hints.
    public static func file(_ what: String, _ error: Error) -> KilnError {
        if let e = error as? UserFacingError { return KilnError("\(what): \(e.userMessage)") }
        if let code = (error as NSError).posixCode { return posix(what, code) }
        return KilnError("\(what): \(error.systemReason)")
    }
}
