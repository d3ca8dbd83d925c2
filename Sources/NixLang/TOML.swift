import Foundation

// MARK: - builtins.fromTOML

/// A TOML table under construction (reference type so that nested tables can be extended in place).
private final class TomlTable {
    var entries: [String: TomlNode] = [:]
    /// Defined by a `[header]` or by key/values (not only implicitly as a parent).
    var explicit = false
    /// An inline table, which cannot be extended.
    var sealed = false
}

private final class TomlTableArray {
    var tables: [TomlTable] = []
}

private enum TomlNode {
    case value(Value)
    case table(TomlTable)
    case tableArray(TomlTableArray)
    case array([TomlNode])
}

/// A TOML 1.0 parser producing Nix values (dates and times are rejected, as in Nix).
struct TOMLParser {
    private let s: [UInt8]
    private var p = 0

    init(_ text: String) { s = Array(text.utf8) }

    private func fail(_ msg: String) -> NixError {
        var line = 1
        for i in 0..<min(p, s.count) where s[i] == 10 { line += 1 }
        return NixError(.invalidValue, "while parsing a TOML string: \(msg) at line \(line)")
    }

    private var cur: UInt8? { p < s.count ? s[p] : nil }
    private func peek(_ o: Int) -> UInt8? { p + o < s.count ? s[p + o] : nil }

    private mutating func skipWS() {
        while let c = cur, c == 32 || c == 9 { p += 1 }
    }

    /// Skips whitespace, newlines and comments.
    private mutating func skipAll() {
        while let c = cur {
            if c == 32 || c == 9 || c == 10 || c == 13 {
                p += 1
            } else if c == 35 {
                while let d = cur, d != 10 { p += 1 }
            } else {
                break
            }
        }
    }

    private mutating func endOfLine() throws {
        skipWS()
        if cur == 35 { while let d = cur, d != 10 { p += 1 } }
        if cur == 13 { p += 1 }
        guard cur == nil || cur == 10 else { throw fail("expected a newline") }
        if cur == 10 { p += 1 }
    }

    private static func isBare(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45
    }

    private mutating func key() throws -> [String] {
        var parts: [String] = []
        while true {
            skipWS()
            guard let c = cur else { throw fail("expected a key") }
            if c == 34 || c == 39 {
                parts.append(try string())
            } else {
                let start = p
                while let d = cur, TOMLParser.isBare(d) { p += 1 }
                guard p > start else { throw fail("invalid key") }
                parts.append(String(decoding: s[start..<p], as: UTF8.self))
            }
            skipWS()
            if cur == 46 { p += 1 } else { return parts }
        }
    }

    private mutating func string() throws -> String {
        guard let q = cur else { throw fail("expected a string") }
        let multi = peek(1) == q && peek(2) == q
        p += multi ? 3 : 1
        if multi {
            if cur == 13 && peek(1) == 10 { p += 2 } else if cur == 10 { p += 1 }
        }
        var out: [UInt8] = []
        while true {
            guard let c = cur else { throw fail("unterminated string") }
            if c == q {
                if !multi { p += 1; break }
                if peek(1) == q && peek(2) == q {
                    // up to two extra quotes may end a multi-line string
                    var n = 3
                    while peek(n) == q && n < 5 { n += 1 }
                    out += [UInt8](repeating: q, count: n - 3)
                    p += n
                    break
                }
                out.append(c); p += 1
                continue
            }
            if c == 10 && !multi { throw fail("newline in a string") }
            if c == 92 && q == 34 {
                p += 1
                guard let e = cur else { throw fail("unterminated string") }
                p += 1
                switch e {
                case 98: out.append(8)
                case 116: out.append(9)
                case 110: out.append(10)
                case 102: out.append(12)
                case 114: out.append(13)
                case 34: out.append(34)
                case 92: out.append(92)
                case 117, 85:
                    let n = e == 117 ? 4 : 8
                    guard p + n <= s.count, let v = UInt32(String(decoding: s[p..<(p + n)], as: UTF8.self), radix: 16),
                          let sc = Unicode.Scalar(v) else { throw fail("invalid unicode escape") }
                    p += n
                    out += Array(String(Character(sc)).utf8)
                case 32, 9, 10, 13:
                    // line-ending backslash (multi-line strings only): skip all whitespace and newlines
                    guard multi else { throw fail("invalid escape sequence") }
                    p -= 1
                    var sawNewline = false
                    while let d = cur, d == 32 || d == 9 || d == 10 || d == 13 { if d == 10 { sawNewline = true }; p += 1 }
                    if !sawNewline { throw fail("invalid escape") }
                default: throw fail("invalid escape sequence")
                }
                continue
            }
            out.append(c)
            p += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func value() throws -> TomlNode {
        skipWS()
        guard let c = cur else { throw fail("expected a value") }
        switch c {
        case 34, 39: return .value(.str(try string()))
        case 91:
            p += 1
            var items: [TomlNode] = []
            while true {
                skipAll()
                if cur == 93 { p += 1; break }
                items.append(try value())
                skipAll()
                if cur == 44 { p += 1; continue }
                if cur == 93 { p += 1; break }
                throw fail("expected ',' or ']' in an array")
            }
            return .array(items)
        case 123:
            p += 1
            let t = TomlTable()
            t.explicit = true
            skipWS()
            if cur == 125 { p += 1; t.sealed = true; return .table(t) }
            while true {
                let k = try key()
                skipWS()
                guard cur == 61 else { throw fail("expected '='") }
                p += 1
                try insert(t, k, try value())
                skipWS()
                if cur == 44 { p += 1; continue }
                if cur == 125 { p += 1; break }
                throw fail("expected ',' or '}' in an inline table")
            }
            t.sealed = true
            return .table(t)
        default:
            let start = p
            while let d = cur, !(d == 44 || d == 93 || d == 125 || d == 10 || d == 13 || d == 35 || d == 32 || d == 9) { p += 1 }
            let word = String(decoding: s[start..<p], as: UTF8.self)
            return .value(try scalar(word))
        }
    }

    private func scalar(_ w: String) throws -> Value {
        switch w {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let b = Array(w.utf8)
        if b.count > 2, b[0] == 48, let radix: Int = [120: 16, 111: 8, 98: 2][b[1]] {
            let digits = String(decoding: b[2...], as: UTF8.self)
            guard !digits.hasPrefix("_"), !digits.hasSuffix("_"), !digits.contains("__"),
                  let v = Int64(digits.replacingOccurrences(of: "_", with: ""), radix: radix) else { throw fail("invalid number '\(w)'") }
            return .int(v)
        }
        if w.contains("-") && w.firstIndex(of: "-") != w.startIndex && !w.lowercased().contains("e-") || w.contains(":") {
            throw fail("dates and times are not supported")
        }
        guard !w.isEmpty, !w.hasPrefix("_"), !w.hasSuffix("_"), !w.contains("__") else { throw fail("invalid value '\(w)'") }
        let clean = w.replacingOccurrences(of: "_", with: "")
        let isFloat = clean.contains(".") || clean.lowercased().contains("e")
        if !isFloat, let v = Int64(clean.hasPrefix("+") ? String(clean.dropFirst()) : clean) { return .int(v) }
        if isFloat, clean.allSatisfy({ "0123456789+-.eE".contains($0) }), let v = Double(clean) { return .float(v) }
        throw fail("invalid value '\(w)'")
    }

    private mutating func insert(_ t: TomlTable, _ key: [String], _ v: TomlNode) throws {
        var table = t
        for k in key.dropLast() {
            switch table.entries[k] {
            case nil:
                let n = TomlTable()
                table.entries[k] = .table(n)
                table = n
            case .table(let n) where !n.sealed:
                table = n
            default:
                throw fail("key '\(k)' is already defined")
            }
        }
        guard let last = key.last else { throw fail("empty key") }
        if table.entries[last] != nil { throw fail("key '\(last)' is already defined") }
        table.entries[last] = v
    }

    /// Walks (creating) the tables of a header path; for `[[a.b]]` the last component appends a table.
    private mutating func header(_ root: TomlTable, _ key: [String], arrayOfTables: Bool) throws -> TomlTable {
        var table = root
        for (i, k) in key.enumerated() {
            let isLast = i == key.count - 1
            if isLast && arrayOfTables {
                let n = TomlTable()
                n.explicit = true
                switch table.entries[k] {
                case nil:
                    let arr = TomlTableArray()
                    arr.tables.append(n)
                    table.entries[k] = .tableArray(arr)
                case .tableArray(let arr):
                    arr.tables.append(n)
                default:
                    throw fail("key '\(k)' is already defined")
                }
                return n
            }
            switch table.entries[k] {
            case nil:
                let n = TomlTable()
                table.entries[k] = .table(n)
                table = n
            case .table(let n) where !n.sealed:
                if isLast {
                    if n.explicit { throw fail("table '\(k)' is already defined") }
                    n.explicit = true
                }
                table = n
            case .tableArray(let arr) where !isLast:
                guard let l = arr.tables.last else { throw fail("empty array of tables") }
                table = l
            default:
                throw fail("key '\(k)' is already defined")
            }
        }
        return table
    }

    mutating func parse() throws -> Value {
        let root = TomlTable()
        var current = root
        while true {
            skipAll()
            guard let c = cur else { break }
            if c == 91 {
                let aot = peek(1) == 91
                p += aot ? 2 : 1
                let k = try key()
                skipWS()
                guard cur == 93, !aot || peek(1) == 93 else { throw fail("expected ']'") }
                p += aot ? 2 : 1
                current = try header(root, k, arrayOfTables: aot)
                try endOfLine()
            } else {
                let k = try key()
                skipWS()
                guard cur == 61 else { throw fail("expected '='") }
                p += 1
                try insert(current, k, try value())
                try endOfLine()
            }
        }
        return TOMLParser.toNix(.table(root))
    }

    private static func toNix(_ n: TomlNode) -> Value {
        switch n {
        case .value(let v): return v
        case .array(let items): return .list(items.map { Thunk(value: toNix($0)) })
        case .tableArray(let arr): return .list(arr.tables.map { Thunk(value: toNix(.table($0))) })
        case .table(let t): return .attrs(AttrSet(t.entries.mapValues { Thunk(value: toNix($0)) }))
        }
    }
}
