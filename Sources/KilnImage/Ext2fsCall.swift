import CExt2fs
import KilnSupport
import Foundation

/// Registers libext2fs' error table once, so `error_message` gives text for its codes.
private let ext2ErrorTable: Void = { initialize_ext2_error_table() }()

/// Turns a libext2fs `errcode_t` into a thrown `KilnError` naming the call and what it was for.
@inline(__always)
func ext2fsCheck(_ code: errcode_t, _ call: @autoclosure () -> String, _ context: @autoclosure () -> String) throws {
    guard code != 0 else { return }
    throw ext2fsError(code, call(), context())
}

func ext2fsError(_ code: errcode_t, _ call: String, _ context: String) -> KilnError {
    _ = ext2ErrorTable
    let text = error_message(code).map { String(cString: $0) } ?? "error \(code)"
    // libext2fs reports a full disk as a short write: say so, and where to make room.
    if code == errcode_t(EXT2_ET_SHORT_WRITE) || code == errcode_t(ENOSPC) {
        return KilnError("\(context): \(call) failed: no space left while writing the filesystem image (\(text))",
                         hint: "free space where temporary files go (TMPDIR, default /tmp) or point TMPDIR at a larger disk")
    }
    return KilnError("\(context): \(call) failed: \(text) (errcode \(code))")
}
