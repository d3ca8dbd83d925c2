import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Errors of system calls

extension NixError {
    /// A failed system call on `path`, worded as Nix words them ("opening file '/x': Permission
    /// denied"), keeping the errno so a caller can tell the reasons apart.
    public static func system(_ operation: String, _ path: String, _ code: Int32) -> NixError {
        var e = NixError(.io, "\(operation) '\(path)': \(String(cString: strerror(code)))")
        e.errnoCode = code
        return e
    }
}

// MARK: - Reading host files

/// The bytes of a host file. The error names the file and the system's reason: a file that
/// exists but cannot be read must not be reported as missing, and a directory is not a file.
func readHostFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw NixError.system("opening file", path, errno) }
    defer { close(fd) }
    var st = stat()
    // open(2) succeeds on a directory; read(2) would then fail with EISDIR anyway, but only
    // after the first read, so say it up front.
    if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
        throw NixError.system("reading file", path, EISDIR)
    }
    var out: [UInt8] = []
    // st_size is a hint only: files under /proc say 0 and still have contents.
    let hint = Int(max(0, st.st_size))
    out.reserveCapacity(hint)
    var chunk = [UInt8](repeating: 0, count: max(1 << 16, min(hint + 1, 1 << 24)))
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw NixError.system("reading file", path, errno)
        }
        if n == 0 { return out }
        out.append(contentsOf: chunk[0..<n])
    }
}

/// The names in a host directory (without `.` and `..`), in no particular order.
func listHostDirectory(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw NixError.system("opening directory", path, errno) }
    defer { closedir(dir) }
    var names: [String] = []
    errno = 0
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) { p in
            p.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
        errno = 0
    }
    if errno != 0 { throw NixError.system("reading directory", path, errno) }
    return names
}

// MARK: - Text

/// The text of a file's bytes. Kiln's string values are Swift `String`s, which hold Unicode
/// text, not arbitrary bytes as Nix's strings do: decoding invalid UTF-8 would replace each
/// bad byte with U+FFFD (three bytes) and silently change the contents, lengths and hashes.
/// So a file that is not UTF-8 is an error naming the file and where its first bad byte is.
public func decodeUTF8(_ bytes: [UInt8], file: String) throws -> String {
    if let s = String(validating: bytes, as: UTF8.self) { return s }
    var parser = Unicode.UTF8.ForwardParser()
    var it = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &it) {
        case .valid(let scalar):
            offset += scalar.count
        case .error:
            let byte = offset < bytes.count ? String(format: "0x%02x", bytes[offset]) : "a truncated sequence"
            throw NixError(.io, "file '\(file)' is not valid UTF-8: byte \(byte) at offset \(offset); Kiln's strings are UTF-8 text, so it cannot read this file as a string")
        case .emptyInput:
            // Unreachable: String(validating:) accepted nothing less.
            throw NixError(.io, "file '\(file)' is not valid UTF-8")
        }
    }
}
