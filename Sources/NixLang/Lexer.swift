import Foundation

// MARK: - Tokens

enum TokKind: Equatable {
    case id(String)
    case int(Int64)
    case float(Double)
    case path(String)        // a complete path literal (raw text)
    case hpath(String)       // ~/...
    case spath(String)       // <nixpkgs/x> (without brackets)
    case uri(String)
    case strStart, strEnd    // "
    case indStart, indEnd    // ''
    case pathStart, pathEnd  // path with interpolation
    case strPart(String)
    case indPart(String, Bool)   // text, hasIndentation
    case interpStart             // ${
    case kwIf, kwThen, kwElse, kwAssert, kwWith, kwLet, kwIn, kwRec, kwInherit, kwOr
    case lbrace, rbrace, lbrack, rbrack, lparen, rparen
    case semi, colon, comma, dot, ellipsis, assign, question, at
    case not, plus, minus, star, slash, concat, update
    case lt, le, gt, ge, eq, neq, and, or, impl
    case eof

    var display: String {
        switch self {
        case .id(let s): return "identifier '\(s)'"
        case .int: return "integer"
        case .float: return "floating point number"
        case .path, .hpath, .pathStart: return "path"
        case .spath: return "<path>"
        case .uri: return "URI"
        case .strStart, .strEnd: return "'\"'"
        case .indStart, .indEnd: return "''"
        case .pathEnd: return "end of path"
        case .strPart, .indPart: return "string"
        case .interpStart: return "'${'"
        case .kwIf: return "'if'"
        case .kwThen: return "'then'"
        case .kwElse: return "'else'"
        case .kwAssert: return "'assert'"
        case .kwWith: return "'with'"
        case .kwLet: return "'let'"
        case .kwIn: return "'in'"
        case .kwRec: return "'rec'"
        case .kwInherit: return "'inherit'"
        case .kwOr: return "'or'"
        case .lbrace: return "'{'"
        case .rbrace: return "'}'"
        case .lbrack: return "'['"
        case .rbrack: return "']'"
        case .lparen: return "'('"
        case .rparen: return "')'"
        case .semi: return "';'"
        case .colon: return "':'"
        case .comma: return "','"
        case .dot: return "'.'"
        case .ellipsis: return "'...'"
        case .assign: return "'='"
        case .question: return "'?'"
        case .at: return "'@'"
        case .not: return "'!'"
        case .plus: return "'+'"
        case .minus: return "'-'"
        case .star: return "'*'"
        case .slash: return "'/'"
        case .concat: return "'++'"
        case .update: return "'//'"
        case .lt: return "'<'"
        case .le: return "'<='"
        case .gt: return "'>'"
        case .ge: return "'>='"
        case .eq: return "'=='"
        case .neq: return "'!='"
        case .and: return "'&&'"
        case .or: return "'||'"
        case .impl: return "'->'"
        case .eof: return "end of file"
        }
    }
}

struct Token {
    var kind: TokKind
    var offset: Int
}

// MARK: - Lexer

struct Lexer {
    let src: [UInt8]
    let file: SourceFile
    var pos = 0
    var tokens: [Token] = []

    enum Mode { case normal(Int), string, ind, path }
    var modes: [Mode] = [.normal(0)]

    init(file: SourceFile) {
        self.file = file
        self.src = file.bytes
    }

    func err(_ msg: String, _ at: Int) -> NixError {
        NixError(.parse, msg, span: Span(file: file, offset: at))
    }

    @inline(__always) func peek(_ o: Int = 0) -> UInt8 {
        let i = pos + o
        return i >= 0 && i < src.count ? src[i] : 0
    }

    static func isIdStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
    static func isIdChar(_ c: UInt8) -> Bool { isIdStart(c) || isDigit(c) || c == 39 || c == 45 }
    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isPathChar(_ c: UInt8) -> Bool { isIdStart(c) || isDigit(c) || c == 46 || c == 45 || c == 43 }
    static func isUriChar(_ c: UInt8) -> Bool {
        if isIdStart(c) || isDigit(c) { return true }
        switch c {
        case UInt8(ascii: "%"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "@"),
             UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: ","),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"),
             UInt8(ascii: "*"), UInt8(ascii: "'"):
            return true
        default: return false
        }
    }

    mutating func add(_ k: TokKind, _ off: Int) { tokens.append(Token(kind: k, offset: off)) }

    static func tokenize(_ file: SourceFile) throws -> [Token] {
        var lx = Lexer(file: file)
        try lx.run()
        return lx.tokens
    }

    mutating func run() throws {
        while true {
            guard let mode = modes.last else { break }
            switch mode {
            case .normal:
                if try !lexNormal() {
                    if modes.count > 1 { throw err("syntax error, unexpected end of file", pos) }
                    add(.eof, pos)
                    return
                }
            case .string: try lexString()
            case .ind: try lexInd()
            case .path: lexPathCont()
            }
        }
    }

    // MARK: Paths

    /// Length of `{PATH_CHAR}*(\/{PATH_CHAR}+)+\/?` at `start`, or 0.
    func pathLength(at start: Int) -> Int {
        var i = start
        while i < src.count && Lexer.isPathChar(src[i]) { i += 1 }
        var segs = 0
        while i < src.count && src[i] == 47 {
            var j = i + 1
            while j < src.count && Lexer.isPathChar(src[j]) { j += 1 }
            if j == i + 1 { break }
            segs += 1
            i = j
        }
        if segs == 0 { return 0 }
        if i < src.count && src[i] == 47 { i += 1 }
        return i - start
    }

    /// Length of `{PATH_CHAR}*\/` at start (a path segment followed by `${`), or 0.
    func pathSegBeforeInterp(at start: Int) -> Int {
        var i = start
        // greedy: [PATH_CHAR or /]* ending in / followed by ${
        var lastSlashEnd = 0
        var sawSlash = false
        while i < src.count && (Lexer.isPathChar(src[i]) || src[i] == 47) {
            if src[i] == 47 { sawSlash = true }
            i += 1
        }
        if sawSlash && i + 1 < src.count && src[i] == 36 && src[i + 1] == 123 {
            // must be a valid path prefix: no '//' sequences
            let text = src[start..<i]
            var prev: UInt8 = 0
            for c in text { if c == 47 && prev == 47 { return 0 }; prev = c }
            lastSlashEnd = i - start
        }
        return lastSlashEnd
    }

    func uriLength(at start: Int) -> Int {
        var i = start
        guard i < src.count, (src[i] >= 65 && src[i] <= 90) || (src[i] >= 97 && src[i] <= 122) else { return 0 }
        i += 1
        while i < src.count {
            let c = src[i]
            if Lexer.isIdStart(c) && c != 95 || Lexer.isDigit(c) || c == 43 || c == 45 || c == 46 { i += 1 } else { break }
        }
        guard i < src.count, src[i] == 58 else { return 0 }
        i += 1
        let s = i
        while i < src.count && Lexer.isUriChar(src[i]) { i += 1 }
        return i == s ? 0 : i - start
    }

    mutating func lexPathCont() {
        // inside a path with interpolation, after a `}`
        if peek() == 36 && peek(1) == 123 {
            add(.interpStart, pos)
            pos += 2
            modes.append(.normal(0))
            return
        }
        let s = pos
        while pos < src.count && (Lexer.isPathChar(src[pos]) || src[pos] == 47) { pos += 1 }
        if pos > s {
            add(.strPart(String(decoding: src[s..<pos], as: UTF8.self)), s)
            return
        }
        add(.pathEnd, pos)
        modes.removeLast()
    }

    // MARK: Normal mode

    /// Lexes one token in normal mode; returns false at end of input.
    mutating func lexNormal() throws -> Bool {
        // skip whitespace and comments
        while pos < src.count {
            let c = src[pos]
            if c == 32 || c == 9 || c == 10 || c == 13 { pos += 1; continue }
            if c == 35 {
                while pos < src.count && src[pos] != 10 && src[pos] != 13 { pos += 1 }
                continue
            }
            if c == 47 && peek(1) == 42 {
                let start = pos
                pos += 2
                while pos < src.count && !(src[pos] == 42 && peek(1) == 47) { pos += 1 }
                if pos >= src.count { throw err("syntax error, unterminated comment", start) }
                pos += 2
                continue
            }
            break
        }
        if pos >= src.count { return false }
        let start = pos
        let c = src[pos]

        // path / uri / id / number: longest match. A path needs a '/' after its first run of
        // path characters and a URI a ':' after its scheme, so most identifiers skip those scans.
        var runEnd = pos
        while runEnd < src.count && Lexer.isPathChar(src[runEnd]) { runEnd += 1 }
        let mayBePath = runEnd < src.count && src[runEnd] == 47
        // (A scheme's characters are path characters, so its ':' ends the run.)
        let mayBeURI = runEnd < src.count && src[runEnd] == 58
        let segLen = mayBePath || c == 47 ? pathSegBeforeInterp(at: pos) : 0
        if segLen > 0 && (Lexer.isPathChar(c) || c == 47) {
            add(.pathStart, start)
            add(.strPart(String(decoding: src[pos..<(pos + segLen)], as: UTF8.self)), start)
            pos += segLen
            modes.append(.path)
            return true
        }
        if c == 126 && peek(1) == 47 { // ~/
            let l = pathLength(at: pos + 1)
            if l > 0 {
                pos += 1 + l
                add(.hpath(String(decoding: src[start..<pos], as: UTF8.self)), start)
                return true
            }
        }
        if c == 60 { // <
            var i = pos + 1
            var ok = false
            while i < src.count && (Lexer.isPathChar(src[i]) || src[i] == 47) { i += 1 }
            if i < src.count && src[i] == 62 && i > pos + 1 {
                let inner = String(decoding: src[(pos + 1)..<i], as: UTF8.self)
                if !inner.hasPrefix("/") && !inner.hasSuffix("/") && !inner.contains("//") { ok = true }
                if ok {
                    pos = i + 1
                    add(.spath(inner), start)
                    return true
                }
            }
        }
        let pl = mayBePath || c == 47 ? pathLength(at: pos) : 0
        let ul = mayBeURI ? uriLength(at: pos) : 0
        var il = 0
        if Lexer.isIdStart(c) {
            var i = pos + 1
            while i < src.count && Lexer.isIdChar(src[i]) { i += 1 }
            il = i - pos
        }
        var nl = 0
        var isFloat = false
        if Lexer.isDigit(c) || (c == 46 && Lexer.isDigit(peek(1))) {
            var i = pos
            while i < src.count && Lexer.isDigit(src[i]) { i += 1 }
            nl = i - pos
            // float: ([1-9][0-9]*\.[0-9]*) | (0?\.[0-9]+)
            let intPart = src[pos..<i]
            if i < src.count && src[i] == 46 {
                let okInt = (intPart.first.map { $0 != 48 } ?? false) || intPart.isEmpty || (intPart.count == 1 && intPart.first == 48)
                var j = i + 1
                while j < src.count && Lexer.isDigit(src[j]) { j += 1 }
                let fracDigits = j - i - 1
                let valid = okInt && ((intPart.first.map { $0 != 48 } ?? false) ? true : fracDigits > 0)
                if valid {
                    if j < src.count && (src[j] == 69 || src[j] == 101) {
                        var k = j + 1
                        if k < src.count && (src[k] == 43 || src[k] == 45) { k += 1 }
                        let ds = k
                        while k < src.count && Lexer.isDigit(src[k]) { k += 1 }
                        if k > ds { j = k }
                    }
                    nl = j - pos
                    isFloat = true
                }
            }
        }
        let best = max(max(pl, ul), max(il, nl))
        if best > 0 {
            let text = String(decoding: src[pos..<(pos + best)], as: UTF8.self)
            if il == best {
                pos += best
                // Keywords are 2 to 7 letters, starting with one of these; other names skip the compares.
                let mayBeKeyword: Bool
                switch c {
                case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "l"),
                     UInt8(ascii: "o"), UInt8(ascii: "r"), UInt8(ascii: "t"), UInt8(ascii: "w"):
                    mayBeKeyword = best <= 7
                default:
                    mayBeKeyword = false
                }
                if !mayBeKeyword {
                    add(.id(text), start)
                    return true
                }
                switch text {
                case "if": add(.kwIf, start)
                case "then": add(.kwThen, start)
                case "else": add(.kwElse, start)
                case "assert": add(.kwAssert, start)
                case "with": add(.kwWith, start)
                case "let": add(.kwLet, start)
                case "in": add(.kwIn, start)
                case "rec": add(.kwRec, start)
                case "inherit": add(.kwInherit, start)
                case "or": add(.kwOr, start)
                default: add(.id(text), start)
                }
                return true
            }
            if nl == best {
                pos += best
                if isFloat {
                    guard let d = Double(text) else { throw err("invalid float '\(text)'", start) }
                    add(.float(d), start)
                } else {
                    guard let v = Int64(text) else { throw err("invalid integer '\(text)'", start) }
                    add(.int(v), start)
                }
                return true
            }
            if pl == best {
                pos += best
                if text.hasSuffix("/") { throw err("path '\(text)' has a trailing slash", start) }
                add(.path(text), start)
                return true
            }
            pos += best
            add(.uri(text), start)
            return true
        }

        func two(_ a: UInt8, _ b: UInt8) -> Bool { c == a && peek(1) == b }
        switch c {
        case UInt8(ascii: "\""):
            pos += 1; add(.strStart, start); modes.append(.string)
        case UInt8(ascii: "'") where peek(1) == 39:
            pos += 2; add(.indStart, start); modes.append(.ind)
            var j = pos
            while j < src.count && src[j] == 32 { j += 1 }
            if j < src.count && src[j] == 10 { pos = j + 1 }
        case UInt8(ascii: "$") where peek(1) == 123:
            pos += 2; add(.interpStart, start)
            modes.append(.normal(0))
        case UInt8(ascii: "{"):
            pos += 1; add(.lbrace, start)
            if case .normal(let d) = modes[modes.count - 1] { modes[modes.count - 1] = .normal(d + 1) }
        case UInt8(ascii: "}"):
            pos += 1; add(.rbrace, start)
            if case .normal(let d) = modes[modes.count - 1] {
                if d == 0 {
                    if modes.count > 1 { modes.removeLast() } else { /* stray }, parser reports */ }
                } else {
                    modes[modes.count - 1] = .normal(d - 1)
                }
            }
        case UInt8(ascii: "["): pos += 1; add(.lbrack, start)
        case UInt8(ascii: "]"): pos += 1; add(.rbrack, start)
        case UInt8(ascii: "("): pos += 1; add(.lparen, start)
        case UInt8(ascii: ")"): pos += 1; add(.rparen, start)
        case UInt8(ascii: ";"): pos += 1; add(.semi, start)
        case UInt8(ascii: ":"): pos += 1; add(.colon, start)
        case UInt8(ascii: ","): pos += 1; add(.comma, start)
        case UInt8(ascii: "@"): pos += 1; add(.at, start)
        case UInt8(ascii: "?"): pos += 1; add(.question, start)
        case UInt8(ascii: "."):
            if peek(1) == 46 && peek(2) == 46 { pos += 3; add(.ellipsis, start) } else { pos += 1; add(.dot, start) }
        case UInt8(ascii: "="):
            if two(61, 61) { pos += 2; add(.eq, start) } else { pos += 1; add(.assign, start) }
        case UInt8(ascii: "!"):
            if two(33, 61) { pos += 2; add(.neq, start) } else { pos += 1; add(.not, start) }
        case UInt8(ascii: "+"):
            if two(43, 43) { pos += 2; add(.concat, start) } else { pos += 1; add(.plus, start) }
        case UInt8(ascii: "-"):
            if two(45, 62) { pos += 2; add(.impl, start) } else { pos += 1; add(.minus, start) }
        case UInt8(ascii: "*"): pos += 1; add(.star, start)
        case UInt8(ascii: "/"):
            if two(47, 47) { pos += 2; add(.update, start) } else { pos += 1; add(.slash, start) }
        case UInt8(ascii: "<"):
            if two(60, 61) { pos += 2; add(.le, start) } else { pos += 1; add(.lt, start) }
        case UInt8(ascii: ">"):
            if two(62, 61) { pos += 2; add(.ge, start) } else { pos += 1; add(.gt, start) }
        case UInt8(ascii: "&") where peek(1) == 38: pos += 2; add(.and, start)
        case UInt8(ascii: "|") where peek(1) == 124: pos += 2; add(.or, start)
        default:
            throw err("syntax error, unexpected '\(displayCharacter(at: start))'", start)
        }
        return true
    }

    /// The character at `offset` as an error message may show it: a whole UTF-8 sequence
    /// (not its first byte), a control character escaped (a raw ESC would drive the
    /// terminal), a byte that is not UTF-8 as `\xNN`.
    func displayCharacter(at offset: Int) -> String {
        let lead = src[offset]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        let bytes = src[offset..<min(src.count, offset + length)]
        if let s = String(validating: bytes, as: UTF8.self) { return escapeControlCharacters(s) }
        return String(format: "\\x%02x", lead)
    }

    // MARK: Strings

    mutating func lexString() throws {
        var buf: [UInt8] = []
        let start = pos
        while true {
            guard pos < src.count else { throw err("syntax error, unexpected end of file, expecting '\"'", start) }
            let c = src[pos]
            if c == 34 {
                if !buf.isEmpty { add(.strPart(String(decoding: buf, as: UTF8.self)), start) }
                add(.strEnd, pos)
                pos += 1
                modes.removeLast()
                return
            }
            if c == 36 && peek(1) == 123 {
                if !buf.isEmpty { add(.strPart(String(decoding: buf, as: UTF8.self)), start) }
                add(.interpStart, pos)
                pos += 2
                modes.append(.normal(0))
                return
            }
            if c == 36 && peek(1) == 36 { buf.append(36); buf.append(36); pos += 2; continue }
            if c == 92 {
                pos += 1
                guard pos < src.count else { continue }
                let e = src[pos]
                pos += 1
                switch e {
                case 110: buf.append(10)
                case 114: buf.append(13)
                case 116: buf.append(9)
                case 13:
                    buf.append(10)
                    if peek() == 10 { pos += 1 }
                default: buf.append(e)
                }
                continue
            }
            if c == 13 {
                buf.append(10)
                pos += 1
                if peek() == 10 { pos += 1 }
                continue
            }
            buf.append(c)
            pos += 1
        }
    }

    mutating func lexInd() throws {
        let start = pos
        var buf: [UInt8] = []
        func flush(_ lx: inout Lexer) {
            if !buf.isEmpty { lx.add(.indPart(String(decoding: buf, as: UTF8.self), true), start); buf = [] }
        }
        while true {
            guard pos < src.count else { throw err("syntax error, unexpected end of file, expecting \"''\"", start) }
            let c = src[pos]
            if c == 39 && peek(1) == 39 {
                if peek(2) == 36 { // ''$
                    flush(&self); add(.indPart("$", false), pos); pos += 3; continue
                }
                if peek(2) == 39 { // '''
                    flush(&self); add(.indPart("''", false), pos); pos += 3; continue
                }
                if peek(2) == 92 { // ''\X
                    flush(&self)
                    let at = pos
                    pos += 3
                    guard pos < src.count else { continue }
                    let e = src[pos]
                    pos += 1
                    switch e {
                    case 110: add(.indPart("\n", false), at)
                    case 114: add(.indPart("\r", false), at)
                    case 116: add(.indPart("\t", false), at)
                    case 13:
                        if peek() == 10 { pos += 1 }
                        add(.indPart("\n", false), at)
                    default:
                        // a full UTF-8 character
                        var bytes = [e]
                        if e >= 0xC0 {
                            while pos < src.count && (src[pos] & 0xC0) == 0x80 { bytes.append(src[pos]); pos += 1 }
                        }
                        add(.indPart(String(decoding: bytes, as: UTF8.self), false), at)
                    }
                    continue
                }
                flush(&self)
                add(.indEnd, pos)
                pos += 2
                modes.removeLast()
                return
            }
            if c == 36 && peek(1) == 123 {
                flush(&self)
                add(.interpStart, pos)
                pos += 2
                modes.append(.normal(0))
                return
            }
            if c == 36 && peek(1) == 36 { buf.append(36); buf.append(36); pos += 2; continue }
            if c == 13 {
                buf.append(10); pos += 1
                if peek() == 10 { pos += 1 }
                continue
            }
            buf.append(c)
            pos += 1
        }
    }
}
