import CExt2fs
import KilnSupport

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
    return KilnError("\(context): \(call) failed: \(text) (errcode \(code))")
}
