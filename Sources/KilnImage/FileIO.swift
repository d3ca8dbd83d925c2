import Foundation
import KilnSupport

/// An open file, closed when released.
final class OpenFile {
    let fd: Int32
    let path: String

    init(_ path: String, flags: Int32, mode: mode_t = 0o644) throws {
        fd = open(path, flags | O_CLOEXEC, mode)
        self.path = path
        guard fd >= 0 else { throw KilnError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    var size: UInt64 {
        get throws {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw KilnError("cannot stat '\(path)': \(String(cString: strerror(errno)))") }
            return UInt64(st.st_size)
        }
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { buf in
            guard let base = buf.baseAddress else { return }
            try write(base, count: buf.count, at: offset)
        }
    }

    func write(_ base: UnsafeRawPointer, count: Int, at offset: UInt64) throws {
        var done = 0
        while done < count {
            let n = pwrite(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw KilnError("cannot write '\(path)' at offset \(offset + UInt64(done)): \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(_ base: UnsafeMutableRawPointer, count: Int, at offset: UInt64) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw KilnError("cannot read '\(path)' at offset \(offset + UInt64(done)): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func read(count: Int, at offset: UInt64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { buf -> Int in
            guard let base = buf.baseAddress else { return 0 }
            return try read(base, count: count, at: offset)
        }
        return Array(out.prefix(n))
    }
}

/// Copies `source` into `destination` at `offset` without writing zeros: only the data
/// regions (SEEK_DATA/SEEK_HOLE) are read, and 4 KiB blocks that are all zero are skipped,
/// so the destination (a fresh sparse file) stays sparse.
/// - Returns: the number of bytes actually written.
@discardableResult
func copySparse(from source: OpenFile, to destination: OpenFile, at offset: UInt64) throws -> UInt64 {
    let size = try source.size
    let chunk = 1 << 20, block = 4096
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: block)
    defer { buffer.deallocate() }
    let zeros = [UInt8](repeating: 0, count: block)
    var written: UInt64 = 0
    var position: UInt64 = 0
    while position < size {
        var dataStart = lseek(source.fd, off_t(position), SEEK_DATA)
        if dataStart < 0 {
            if errno == ENXIO { break } // only a hole remains
            dataStart = off_t(position) // SEEK_DATA unsupported: read everything
        }
        var dataEnd = lseek(source.fd, dataStart, SEEK_HOLE)
        if dataEnd < 0 { dataEnd = off_t(size) }
        var at = UInt64(dataStart)
        while at < UInt64(dataEnd) {
            let want = Int(min(UInt64(chunk), UInt64(dataEnd) - at))
            let got = try source.read(buffer, count: want, at: at)
            if got == 0 { break }
            // Write runs of non-zero blocks.
            var i = 0
            while i < got {
                let n = min(block, got - i)
                if memcmp(buffer + i, zeros, n) == 0 { i += n; continue }
                var j = i + n
                while j < got {
                    let m = min(block, got - j)
                    if memcmp(buffer + j, zeros, m) == 0 { break }
                    j += m
                }
                try destination.write(buffer + i, count: j - i, at: offset + at + UInt64(i))
                written += UInt64(j - i)
                i = j
            }
            at += UInt64(got)
        }
        position = max(UInt64(dataEnd), at)
    }
    return written
}

// Glibc only declares these with _GNU_SOURCE, which Swift's Glibc module doesn't set.
// The values are Linux's.
private let SEEK_DATA: Int32 = 3
private let SEEK_HOLE: Int32 = 4
