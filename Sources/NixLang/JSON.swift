import Foundation

// MARK: - toJSON / toXML

func jsonQuote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if c.value < 0x20 {
                out += String(format: "\\u%04x", c.value)
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out + "\""
}

extension Evaluator {
    func jsonValue(_ v: Value, _ out: inout String, _ ctx: inout Set<String>, strict: Bool = true) throws {
        try enter()
        defer { leave() }
        func child(_ t: Thunk) throws -> Value {
            if !strict, t.evaluatedValue == nil { throw typeError("cannot convert a thunk to JSON") }
            return try t.force(self)
        }
        switch v {
        case .int(let i): out += String(i)
        case .float(let f): out += formatFloat(f)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .string(let s):
            out += jsonQuote(s.value)
            ctx.formUnion(s.context)
        case .path:
            let s = try coerceToString(v, span: nil, coerceMore: false, copyToStore: true)
            ctx.formUnion(s.context)
            out += jsonQuote(s.value)
        case .list(let l):
            out += "["
            for (i, t) in l.enumerated() {
                if i > 0 { out += "," }
                try jsonValue(try child(t), &out, &ctx, strict: strict)
            }
            out += "]"
        case .attrs(let a):
            if a["__toString"] != nil {
                let s = try coerceToString(v, span: nil, coerceMore: false, copyToStore: false)
                ctx.formUnion(s.context)
                out += jsonQuote(s.value)
                return
            }
            if let op = a["outPath"] {
                try jsonValue(try op.force(self), &out, &ctx, strict: strict)
                return
            }
            out += "{"
            var first = true
            for k in a.sortedNames {
                guard let t = a[k] else { continue }
                if !first { out += "," }
                first = false
                out += jsonQuote(k) + ":"
                do {
                    try jsonValue(try child(t), &out, &ctx, strict: strict)
                } catch let e as NixError {
                    throw e.withContext("while evaluating attribute '\(k)'", span: a.position(k))
                }
            }
            out += "}"
        case .lambda, .primop:
            throw typeError("cannot convert a function to JSON")
        }
    }

    func xmlValue(_ v: Value, _ out: inout String, indent: String, strict: Bool = true, location: Bool = false) throws {
        try enter()
        defer { leave() }
        func esc(_ s: String) -> String {
            var o = ""
            for c in s.unicodeScalars {
                switch c {
                case "<": o += "&lt;"
                case ">": o += "&gt;"
                case "&": o += "&amp;"
                case "\"": o += "&quot;"
                case "\n": o += "&#xA;"
                case "\r": o += "&#xD;"
                case "\t": o += "&#x9;"
                default: o.unicodeScalars.append(c)
                }
            }
            return o
        }
        /// `column`/`line` attributes and the `path` attribute of a position (XMLAttrs are sorted by name).
        func pos(_ sp: Span?) -> (before: String, path: String)? {
            guard location, let sp else { return nil }
            let lc = sp.file.lineColumn(sp.offset)
            let path = sp.file.name == "«string»" ? String(decoding: sp.file.bytes, as: UTF8.self) : sp.file.name
            return (" column=\"\(lc.column)\" line=\"\(lc.line)\"", " path=\"\(esc(path))\"")
        }
        func attrOpen(_ k: String, _ sp: Span?) -> String {
            guard let p = pos(sp) else { return "<attr name=\"\(esc(k))\">" }
            return "<attr" + p.before + " name=\"\(esc(k))\"" + p.path + ">"
        }
        func child(_ t: Thunk, _ ind: String) throws {
            if !strict, t.evaluatedValue == nil {
                out += ind + "<unevaluated />\n"
                return
            }
            try xmlValue(try t.force(self), &out, indent: ind, strict: strict, location: location)
        }
        switch v {
        case .int(let i): out += indent + "<int value=\"\(i)\" />\n"
        case .float(let f): out += indent + "<float value=\"\(formatFloat(f))\" />\n"
        case .bool(let b): out += indent + "<bool value=\"\(b)\" />\n"
        case .null: out += indent + "<null />\n"
        case .string(let s): out += indent + "<string value=\"\(esc(s.value))\" />\n"
        case .path(let p): out += indent + "<path value=\"\(esc(p))\" />\n"
        case .list(let l):
            if l.isEmpty { out += indent + "<list />\n"; return }
            out += indent + "<list>\n"
            for t in l { try child(t, indent + "  ") }
            out += indent + "</list>\n"
        case .attrs(let a):
            if try isDerivation(a) {
                var attrsStr = ""
                if let dp = a["drvPath"], case .string(let s) = try dp.force(self) { attrsStr += " drvPath=\"\(esc(s.value))\"" }
                if let op = a["outPath"], case .string(let s) = try op.force(self) { attrsStr += " outPath=\"\(esc(s.value))\"" }
                out += indent + "<derivation\(attrsStr)>\n"
                for k in a.sortedNames {
                    guard let t = a[k] else { continue }
                    out += indent + "  " + attrOpen(k, a.position(k)) + "\n"
                    try child(t, indent + "    ")
                    out += indent + "  </attr>\n"
                }
                out += indent + "</derivation>\n"
                return
            }
            if a.isEmpty { out += indent + "<attrs />\n"; return }
            out += indent + "<attrs>\n"
            for k in a.sortedNames {
                guard let t = a[k] else { continue }
                out += indent + "  " + attrOpen(k, a.position(k)) + "\n"
                try child(t, indent + "    ")
                out += indent + "  </attr>\n"
            }
            out += indent + "</attrs>\n"
        case .lambda(let c):
            let lam = c.lambda
            let fnAttrs = pos(lam.span).map { $0.before + $0.path } ?? ""
            if let formals = lam.formals {
                var attrs = ""
                if let n = lam.arg { attrs += " name=\"\(esc(n))\"" }
                if lam.ellipsis { attrs += " ellipsis=\"1\"" }
                out += indent + "<function\(fnAttrs)>\n"
                out += indent + "  <attrspat\(attrs)>\n"
                for f in formals.sorted(by: { nixLess($0.name, $1.name) }) {
                    out += indent + "    <attr name=\"\(esc(f.name))\" />\n"
                }
                out += indent + "  </attrspat>\n"
                out += indent + "</function>\n"
            } else {
                out += indent + "<function\(fnAttrs)>\n"
                out += indent + "  <varpat name=\"\(esc(lam.arg ?? ""))\" />\n"
                out += indent + "</function>\n"
            }
        case .primop:
            out += indent + "<unevaluated />\n"
        }
    }
}

// MARK: - fromJSON

struct JSONParser {
    let s: [UInt8]
    var p = 0
    var depth = 0

    init(_ s: [UInt8]) { self.s = s }

    func err(_ m: String) -> NixError { NixError(.invalidValue, "JSON parse error: \(m)") }

    mutating func ws() {
        while p < s.count && (s[p] == 32 || s[p] == 9 || s[p] == 10 || s[p] == 13) { p += 1 }
    }

    mutating func parseTop() throws -> Value {
        let v = try parseValue()
        ws()
        if p != s.count { throw err("unexpected trailing characters") }
        return v
    }

    mutating func parseValue() throws -> Value {
        ws()
        guard p < s.count else { throw err("unexpected end of input") }
        depth += 1
        defer { depth -= 1 }
        if depth > 5000 { throw err("nesting too deep") }
        switch s[p] {
        case UInt8(ascii: "{"):
            p += 1
            var d: [String: Thunk] = [:]
            ws()
            if p < s.count && s[p] == UInt8(ascii: "}") { p += 1; return .attrs(AttrSet(d)) }
            while true {
                ws()
                guard p < s.count, s[p] == 34 else { throw err("expected string key") }
                let k = try parseString()
                ws()
                guard p < s.count, s[p] == 58 else { throw err("expected ':'") }
                p += 1
                d[k] = Thunk(value: try parseValue())
                ws()
                guard p < s.count else { throw err("unexpected end of input") }
                if s[p] == 44 { p += 1; continue }
                if s[p] == 125 { p += 1; break }
                throw err("expected ',' or '}'")
            }
            return .attrs(AttrSet(d))
        case UInt8(ascii: "["):
            p += 1
            var l: [Thunk] = []
            ws()
            if p < s.count && s[p] == 93 { p += 1; return .list(l) }
            while true {
                l.append(Thunk(value: try parseValue()))
                ws()
                guard p < s.count else { throw err("unexpected end of input") }
                if s[p] == 44 { p += 1; continue }
                if s[p] == 93 { p += 1; break }
                throw err("expected ',' or ']'")
            }
            return .list(l)
        case 34:
            return .str(try parseString())
        case UInt8(ascii: "t"):
            if s[p...].starts(with: Array("true".utf8)) { p += 4; return .bool(true) }
            throw err("invalid literal")
        case UInt8(ascii: "f"):
            if s[p...].starts(with: Array("false".utf8)) { p += 5; return .bool(false) }
            throw err("invalid literal")
        case UInt8(ascii: "n"):
            if s[p...].starts(with: Array("null".utf8)) { p += 4; return .null }
            throw err("invalid literal")
        default:
            let start = p
            var isFloat = false
            if p < s.count && s[p] == 45 { p += 1 }
            while p < s.count {
                let c = s[p]
                if c >= 48 && c <= 57 { p += 1 } else if c == 46 || c == 101 || c == 69 || c == 43 || c == 45 { isFloat = true; p += 1 } else { break }
            }
            let t = String(decoding: s[start..<p], as: UTF8.self)
            if t.isEmpty || t == "-" { throw err("unexpected character") }
            if !isFloat, let i = Int64(t) { return .int(i) }
            if let d = Double(t) { return .float(d) }
            throw err("invalid number '\(t)'")
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard p + 4 <= s.count, let v = UInt32(String(decoding: s[p..<(p + 4)], as: UTF8.self), radix: 16) else {
            throw err("invalid \\u escape")
        }
        p += 4
        return v
    }

    mutating func parseString() throws -> String {
        p += 1
        var out: [UInt8] = []
        while true {
            guard p < s.count else { throw err("unterminated string") }
            let c = s[p]
            p += 1
            if c == 34 { break }
            if c == 92 {
                guard p < s.count else { throw err("unterminated string") }
                let e = s[p]
                p += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    var cp = try hex4()
                    if cp >= 0xD800 && cp < 0xDC00, p + 1 < s.count, s[p] == 92, s[p + 1] == UInt8(ascii: "u") {
                        p += 2
                        let lo = try hex4()
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo &- 0xDC00)
                    }
                    let sc = Unicode.Scalar(cp) ?? "\u{FFFD}"
                    out += Array(String(Character(sc)).utf8)
                default: out.append(e)
                }
                continue
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
