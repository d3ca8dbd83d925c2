import Foundation

// MARK: - Source files and spans

/// The text of one parsed source (a file or a string), kept for error rendering.
public final class SourceFile: @unchecked Sendable {
    /// The file name shown in error messages (an absolute path, or `«string»`).
    public let name: String
    /// The raw bytes of the source.
    let bytes: [UInt8]
    private var lineStarts: [Int]?
    /// The number a `Span` names this file by.
    let id: UInt32

    init(name: String, text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.id = SourceFile.registry.nextID()
        SourceFile.registry.put(self)
    }

    /// Every source file parsed in this process, by id: spans hold a number rather than a
    /// reference, so that copying one (every AST node and attribute has one) counts nothing.
    /// Read only to render positions, so a lock is cheap enough.
    static let registry = Registry()

    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var next: UInt32 = 0
        private var files: [UInt32: SourceFile] = [:]
        func nextID() -> UInt32 { lock.withLock { next &+= 1; return next } }
        func put(_ f: SourceFile) { lock.withLock { files[f.id] = f } }
        func file(_ id: UInt32) -> SourceFile {
            lock.withLock { files[id] } ?? SourceFile.unknown
        }
    }
    /// For a span that names no registered file (cannot happen: every SourceFile registers).
    static let unknown = SourceFile(name: "«unknown»", text: "")

    private func starts() -> [Int] {
        if let l = lineStarts { return l }
        var l = [0]
        for (i, b) in bytes.enumerated() where b == 10 { l.append(i + 1) }
        lineStarts = l
        return l
    }

    /// Number of lines (a final newline starts an empty last line).
    var lineCount: Int { starts().count }

    /// 1-based line and column of a byte offset.
    func lineColumn(_ offset: Int) -> (line: Int, column: Int) {
        let s = starts()
        var lo = 0, hi = s.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if s[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, max(0, offset - s[lo]) + 1)
    }

    /// The first `count` bytes of a 1-based line, as text.
    func linePrefix(_ line: Int, bytes count: Int) -> String {
        let s = starts()
        guard line >= 1, line <= s.count else { return "" }
        let start = s[line - 1]
        let end = min(bytes.count, start + max(0, count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The text of a 1-based line, without its newline, or nil.
    func lineText(_ line: Int) -> String? {
        let s = starts()
        guard line >= 1, line <= s.count else { return nil }
        let start = s[line - 1]
        var end = line < s.count ? s[line] - 1 : bytes.count
        if end > start, end <= bytes.count, bytes[end - 1] == 13 { end -= 1 }
        guard start <= end, end <= bytes.count else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// A position in a source file (byte offset), attached to every AST node.
public struct Span: Sendable {
    private let fileID: UInt32
    private let rawOffset: UInt32
    public var file: SourceFile { SourceFile.registry.file(fileID) }
    public var offset: Int { Int(rawOffset) }

    init(file: SourceFile, offset: Int) {
        fileID = file.id
        rawOffset = UInt32(clamping: offset)
    }

    /// 1-based line number.
    public var line: Int { file.lineColumn(offset).line }
    /// 1-based column number (in bytes).
    public var column: Int { file.lineColumn(offset).column }
}

// MARK: - Errors

/// The single error type of the Nix evaluator.
public struct NixError: Error, CustomStringConvertible, Sendable {
    /// Stable error kinds; `code` gives a stable identifier for each.
    public enum Kind: String, Sendable {
        case parse
        case undefinedVariable
        case typeError
        case missingAttribute
        case duplicateAttribute
        case infiniteRecursion
        case stackOverflow
        case thrown
        case abort
        case assertion
        case io
        case missingArgument
        case unexpectedArgument
        case divisionByZero
        case overflow
        case notCallable
        case invalidValue
        case importError
        case other
    }

    public var kind: Kind
    public var message: String
    public var span: Span?
    /// The errno of the system call that failed, for `.io` errors from one: callers tell
    /// "No such file or directory" from the other reasons by it, not by the message.
    public var errnoCode: Int32?
    /// The evaluation stack ("while evaluating …" frames), innermost first.
    public var trace: [TraceFrame]
    /// Frames left out because the trace reached `maxTraceFrames`.
    public var omittedFrames = 0
    /// At most this many frames are kept (deep recursions would otherwise make huge errors).
    public static let maxTraceFrames = 64

    /// The trace messages, innermost first.
    public var notes: [String] { trace.map(\.message) }

    public init(_ kind: Kind, _ message: String, span: Span? = nil, notes: [String] = []) {
        self.kind = kind
        self.message = message
        self.span = span
        self.trace = notes.map { TraceFrame(message: $0, span: nil) }
    }

    /// A stable code such as `E003` for each kind.
    public var code: String {
        let all: [Kind] = [.parse, .undefinedVariable, .typeError, .missingAttribute, .duplicateAttribute,
                           .infiniteRecursion, .stackOverflow, .thrown, .abort, .assertion, .io,
                           .missingArgument, .unexpectedArgument, .divisionByZero, .overflow, .notCallable,
                           .invalidValue, .importError, .other]
        let i = (all.firstIndex(of: kind) ?? all.count) + 1
        return "E" + String(format: "%03d", i)
    }

    /// The location as (file, line, column), 1-based, if known.
    public var location: (file: String, line: Int, column: Int)? {
        guard let s = span else { return nil }
        let lc = s.file.lineColumn(s.offset)
        return (s.file.name, lc.line, lc.column)
    }

    /// Returns a copy with one more context note appended.
    public func withContext(_ note: String, span: Span? = nil) -> NixError {
        var e = self
        e.addFrame(note, span)
        return e
    }

    /// Appends a frame to the trace (or counts it as omitted once the trace is full).
    mutating func addFrame(_ note: String, _ span: Span?) {
        if trace.count < NixError.maxTraceFrames {
            trace.append(TraceFrame(message: note, span: span))
        } else {
            omittedFrames += 1
        }
    }

    /// Returns a copy with a span, if it had none.
    func at(_ span: Span?) -> NixError {
        if self.span != nil || span == nil { return self }
        var e = self
        e.span = span
        return e
    }

    public var description: String { render(showTrace: true) }

    /// The error as Nix prints it; without `showTrace`, frames are left out as `nix-instantiate` does.
    public func render(showTrace: Bool) -> String {
        var out = "error: " + escapeControlCharacters(message, keepingNewlines: true)
        if let s = span { out += NixError.renderLocation(s) }
        if showTrace {
            for f in trace {
                out += "\n\n       … " + escapeControlCharacters(f.message, keepingNewlines: true)
                if let s = f.span { out += NixError.renderLocation(s) }
            }
            if omittedFrames > 0 { out += "\n\n       (\(omittedFrames) more frames omitted)" }
        } else if !trace.isEmpty {
            out += "\n(use '--show-trace' to show detailed location information)"
        }
        return out
    }

    /// "at FILE:LINE:COLUMN:" and the lines around it, the column marked with a caret.
    public static func renderLocation(_ s: Span) -> String {
        let lc = s.file.lineColumn(s.offset)
        var out = "\n\n       at \(escapeControlCharacters(s.file.name)):\(lc.line):\(lc.column):\n"
        func num(_ n: Int) -> String {
            let t = String(n)
            return String(repeating: " ", count: max(0, 13 - t.count)) + t
        }
        // Source lines are shown with control characters escaped (a raw ESC in a file would
        // otherwise drive the terminal), so the caret is placed under the escaped text.
        if lc.line > 1, let prev = s.file.lineText(lc.line - 1) {
            out += "\n" + num(lc.line - 1) + "| " + escapeControlCharacters(prev)
        }
        if let cur = s.file.lineText(lc.line) {
            out += "\n" + num(lc.line) + "| " + escapeControlCharacters(cur)
            out += "\n" + String(repeating: " ", count: 13) + "| " + caretPadding(s.file.linePrefix(lc.line, bytes: lc.column - 1)) + "^"
            if let next = s.file.lineText(lc.line + 1), lc.line + 1 <= s.file.lineCount, !(lc.line + 1 == s.file.lineCount && next.isEmpty) {
                out += "\n" + num(lc.line + 1) + "| " + escapeControlCharacters(next)
            }
        }
        return out
    }

    /// What goes before the caret so that it stands under the character after `prefix` as
    /// the line is shown: a tab for a tab, as many spaces as an escaped control character
    /// takes, one space for any other character (however many bytes it has).
    static func caretPadding(_ prefix: String) -> String {
        var out = ""
        for u in prefix.unicodeScalars {
            if u == "\t" {
                out += "\t"
            } else {
                out += String(repeating: " ", count: escapeControlCharacters(String(u)).count)
            }
        }
        return out
    }
}

/// One frame of an error's evaluation stack.
public struct TraceFrame: Sendable {
    public var message: String
    public var span: Span?
}

/// `s` with control characters written as escapes (ESC as `\x1b`, U+009B as `\u{9b}`), so
/// that text from a source file or a value cannot drive the terminal an error is shown on.
/// Tabs stay, and newlines with `keepingNewlines` (a message may have several lines).
public func escapeControlCharacters(_ s: String, keepingNewlines: Bool = false) -> String {
    func escaped(_ u: Unicode.Scalar) -> Bool {
        if u == "\t" || (keepingNewlines && u == "\n") { return false }
        return u.value < 0x20 || (0x7F...0x9F).contains(u.value)
    }
    guard s.unicodeScalars.contains(where: escaped) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        if !escaped(u) {
            out.unicodeScalars.append(u)
        } else if u.value < 0x80 {
            out += String(format: "\\x%02x", u.value)
        } else {
            out += "\\u{" + String(u.value, radix: 16) + "}"
        }
    }
    return out
}

func typeError(_ msg: String, _ span: Span? = nil) -> NixError {
    NixError(.typeError, msg, span: span)
}
