import Foundation
import KilnSupport

/// The part of Python that NixOS test scripts are written in: calls (`machine.succeed("…")`,
/// `start_all()`), keyword arguments, string literals (single, double, triple-quoted, with
/// `r`/`f` prefixes), integers, assignments of a call's result (also `status, out = …`),
/// `assert` with `in`/`not in`/`==`/`!=`, `with subtest("…"):` blocks and comments.
/// Parsing is separate from running (`ScriptRunner`), so a syntax error is reported with
/// its line before any machine boots.
public struct TestScript: Sendable {
    public var statements: [Statement]

    public init(parsing source: String) throws {
        var lexer = ScriptLexer(source)
        let tokens = try lexer.tokenize()
        var parser = ScriptParser(tokens: tokens)
        statements = try parser.parseProgram()
    }

    /// The subtest names in the script's order, for reports.
    public var subtestNames: [String] {
        func walk(_ s: [Statement]) -> [String] {
            s.flatMap { st -> [String] in
                if case .with(let e, let body, _) = st.kind, case .call(let f, let args, _) = e, case .name("subtest") = f,
                   case .string(let n)? = args.first { return [n] + walk(body) }
                if case .with(_, let body, _) = st.kind { return walk(body) }
                return []
            }
        }
        return walk(statements)
    }
}

/// A script error (syntax or run time) with the script line it belongs to.
public struct ScriptError: UserFacingError, CustomStringConvertible {
    public var line: Int
    public var message: String
    public init(line: Int, _ message: String) { self.line = line; self.message = message }
    public var userMessage: String { "testScript line \(line): \(message)" }
    public var description: String { userMessage }
}

public indirect enum Expr: Sendable, Equatable {
    case name(String)
    case string(String)
    /// An f-string: literal parts and expressions, in order.
    case format([FormatPart])
    case int(Int)
    case bool(Bool)
    case none
    case tuple([Expr])
    case list([Expr])
    case attribute(Expr, String)
    case index(Expr, Expr)
    case call(Expr, [Expr], [(String, Expr)])
    case unary(String, Expr)
    case binary(String, Expr, Expr)

    public enum FormatPart: Sendable, Equatable { case text(String), expr(Expr) }

    public static func == (a: Expr, b: Expr) -> Bool { "\(a)" == "\(b)" }
}

public struct Statement: Sendable {
    public enum Kind: Sendable {
        case expr(Expr)
        case assign([String], Expr)
        case assert(Expr, Expr?)
        /// `with EXPR [as NAME]:` and its body.
        case with(Expr, [Statement], String?)
        case `if`([(Expr, [Statement])], [Statement])
        case `for`(String, Expr, [Statement])
        case pass
    }
    public var kind: Kind
    public var line: Int
}

// MARK: - Lexer

struct Token: Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable { case name, string, fstring, int, op, newline, indent, dedent, eof }
    var kind: Kind
    var text: String
    var line: Int
    var description: String {
        switch kind {
        case .newline: return "end of line"
        case .indent: return "indentation"
        case .dedent: return "end of block"
        case .eof: return "end of script"
        case .string, .fstring: return "a string"
        default: return "'\(text)'"
        }
    }
}

struct ScriptLexer {
    private let chars: [Character]
    private var i = 0
    private var line = 1
    private var tokens: [Token] = []
    private var indents = [0]
    private var depth = 0

    init(_ source: String) { chars = Array(source.replacingOccurrences(of: "\r\n", with: "\n")) }

    mutating func tokenize() throws -> [Token] {
        var atLineStart = true
        while i < chars.count {
            if atLineStart && depth == 0 {
                atLineStart = false
                var col = 0
                while i < chars.count, chars[i] == " " || chars[i] == "\t" { col += chars[i] == "\t" ? 8 - col % 8 : 1; i += 1 }
                if i >= chars.count { break }
                if chars[i] == "\n" || chars[i] == "#" { // blank or comment line: no indentation change
                    skipComment()
                    if i < chars.count { i += 1; line += 1 }
                    atLineStart = true
                    continue
                }
                if col > (indents.last ?? 0) {
                    indents.append(col); tokens.append(Token(kind: .indent, text: "", line: line))
                } else {
                    while col < (indents.last ?? 0) { indents.removeLast(); tokens.append(Token(kind: .dedent, text: "", line: line)) }
                    if col != (indents.last ?? 0) { throw ScriptError(line: line, "the indentation does not match any outer block") }
                }
            }
            let c = chars[i]
            switch c {
            case " ", "\t": i += 1
            case "#": skipComment()
            case "\\" where i + 1 < chars.count && chars[i + 1] == "\n":
                i += 2; line += 1
            case "\n":
                if depth == 0, let last = tokens.last, last.kind != .newline, last.kind != .indent, last.kind != .dedent {
                    tokens.append(Token(kind: .newline, text: "", line: line))
                }
                i += 1; line += 1
                atLineStart = true
            case "\"", "'":
                tokens.append(try string(raw: false, format: false))
            case _ where c.isLetter || c == "_":
                let start = i
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
                let word = String(chars[start..<i])
                let lower = word.lowercased()
                if i < chars.count, chars[i] == "\"" || chars[i] == "'", ["r", "f", "rf", "fr", "b", "u"].contains(lower) {
                    tokens.append(try string(raw: lower.contains("r"), format: lower.contains("f")))
                } else {
                    tokens.append(Token(kind: .name, text: word, line: line))
                }
            case _ where c.isNumber:
                let start = i
                while i < chars.count, chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
                let text = String(chars[start..<i]).replacingOccurrences(of: "_", with: "")
                tokens.append(Token(kind: .int, text: text, line: line))
            default:
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if ["==", "!=", "<=", ">=", "+=", "**", "//"].contains(two) {
                    tokens.append(Token(kind: .op, text: two, line: line)); i += 2
                } else if "()[]{},:.=<>+-*/%@;".contains(c) {
                    if "([{".contains(c) { depth += 1 }
                    if ")]}".contains(c) { depth = max(0, depth - 1) }
                    tokens.append(Token(kind: .op, text: String(c), line: line)); i += 1
                } else {
                    throw ScriptError(line: line, "unexpected character '\(c)'")
                }
            }
        }
        if tokens.last.map({ $0.kind != .newline && $0.kind != .dedent }) ?? false {
            tokens.append(Token(kind: .newline, text: "", line: line))
        }
        while indents.count > 1 { indents.removeLast(); tokens.append(Token(kind: .dedent, text: "", line: line)) }
        tokens.append(Token(kind: .eof, text: "", line: line))
        return tokens
    }

    private mutating func skipComment() {
        if i < chars.count, chars[i] == "#" { while i < chars.count, chars[i] != "\n" { i += 1 } }
    }

    private mutating func string(raw: Bool, format: Bool) throws -> Token {
        let startLine = line
        let q = chars[i]
        let triple = i + 2 < chars.count && chars[i + 1] == q && chars[i + 2] == q
        i += triple ? 3 : 1
        var out = ""
        while true {
            guard i < chars.count else { throw ScriptError(line: startLine, "this string is not closed") }
            let c = chars[i]
            if c == q {
                if !triple { i += 1; break }
                if i + 2 < chars.count, chars[i + 1] == q, chars[i + 2] == q { i += 3; break }
            }
            if c == "\n" {
                if !triple { throw ScriptError(line: startLine, "this string is not closed before the end of the line") }
                line += 1
            }
            if c == "\\" && i + 1 < chars.count {
                let n = chars[i + 1]
                if raw { out.append(c); out.append(n); i += 2; if n == "\n" { line += 1 }; continue }
                i += 2
                switch n {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "\n": line += 1
                case "x":
                    let hex = String(chars[i..<min(i + 2, chars.count)])
                    guard hex.count == 2, let v = UInt8(hex, radix: 16) else { throw ScriptError(line: line, "bad \\x escape") }
                    out.append(Character(Unicode.Scalar(v))); i += 2
                default: out.append("\\"); out.append(n)
                }
                continue
            }
            out.append(c); i += 1
        }
        return Token(kind: format ? .fstring : .string, text: out, line: startLine)
    }
}

// MARK: - Parser

struct ScriptParser {
    private let tokens: [Token]
    private var p = 0

    init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token { tokens[min(p, tokens.count - 1)] }
    private func isOp(_ s: String) -> Bool { current.kind == .op && current.text == s }
    private func isName(_ s: String) -> Bool { current.kind == .name && current.text == s }
    private mutating func advance() -> Token { let t = current; p += 1; return t }
    private mutating func expectOp(_ s: String) throws {
        guard isOp(s) else { throw ScriptError(line: current.line, "expected '\(s)' but found \(current)") }
        p += 1
    }

    mutating func parseProgram() throws -> [Statement] {
        var out: [Statement] = []
        while current.kind != .eof {
            if current.kind == .newline { p += 1; continue }
            if current.kind == .indent { throw ScriptError(line: current.line, "unexpected indentation") }
            out.append(try statement())
        }
        return out
    }

    private mutating func block() throws -> [Statement] {
        try expectOp(":")
        if current.kind != .newline { // `with x: stmt` on one line
            return [try simpleStatement()]
        }
        p += 1
        guard current.kind == .indent else { throw ScriptError(line: current.line, "expected an indented block") }
        p += 1
        var body: [Statement] = []
        while current.kind != .dedent && current.kind != .eof {
            if current.kind == .newline { p += 1; continue }
            body.append(try statement())
        }
        if current.kind == .dedent { p += 1 }
        return body
    }

    private mutating func statement() throws -> Statement {
        let line = current.line
        if isName("with") {
            p += 1
            let e = try expression()
            var alias: String?
            if isName("as") { p += 1; alias = try nameToken() }
            return Statement(kind: .with(e, try block(), alias), line: line)
        }
        if isName("if") {
            p += 1
            var branches: [(Expr, [Statement])] = [(try expression(), try block())]
            var otherwise: [Statement] = []
            while isName("elif") { p += 1; branches.append((try expression(), try block())) }
            if isName("else") { p += 1; otherwise = try block() }
            return Statement(kind: .if(branches, otherwise), line: line)
        }
        if isName("for") {
            p += 1
            let v = try nameToken()
            guard isName("in") else { throw ScriptError(line: current.line, "expected 'in' after 'for \(v)'") }
            p += 1
            return Statement(kind: .for(v, try expression(), try block()), line: line)
        }
        return try simpleStatement()
    }

    private mutating func nameToken() throws -> String {
        guard current.kind == .name else { throw ScriptError(line: current.line, "expected a name but found \(current)") }
        return advance().text
    }

    private mutating func simpleStatement() throws -> Statement {
        let line = current.line
        let kind: Statement.Kind
        if isName("assert") {
            p += 1
            let cond = try expression()
            var msg: Expr?
            if isOp(",") { p += 1; msg = try expression() }
            kind = .assert(cond, msg)
        } else if isName("pass") {
            p += 1; kind = .pass
        } else if let targets = assignmentTargets() {
            kind = .assign(targets, try expressionList())
        } else {
            kind = .expr(try expressionList())
        }
        if isOp(";") { p += 1 }
        guard current.kind == .newline || current.kind == .eof || current.kind == .dedent else {
            throw ScriptError(line: current.line, "expected the end of the statement but found \(current)")
        }
        if current.kind == .newline { p += 1 }
        return Statement(kind: kind, line: line)
    }

    /// `a = …` or `a, b = …`: the names, with the parser moved past `=`; nil otherwise.
    private mutating func assignmentTargets() -> [String]? {
        var q = p
        var names: [String] = []
        while tokens[q].kind == .name {
            names.append(tokens[q].text); q += 1
            if tokens[q].kind == .op && tokens[q].text == "," { q += 1; continue }
            break
        }
        guard !names.isEmpty, tokens[q].kind == .op, tokens[q].text == "=" else { return nil }
        p = q + 1
        return names
    }

    private mutating func expressionList() throws -> Expr {
        let first = try expression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            p += 1
            if current.kind == .newline || current.kind == .eof { break }
            items.append(try expression())
        }
        return .tuple(items)
    }

    mutating func expression() throws -> Expr {
        var e = try andExpr()
        while isName("or") { p += 1; e = .binary("or", e, try andExpr()) }
        return e
    }

    private mutating func andExpr() throws -> Expr {
        var e = try notExpr()
        while isName("and") { p += 1; e = .binary("and", e, try notExpr()) }
        return e
    }

    private mutating func notExpr() throws -> Expr {
        if isName("not") { p += 1; return .unary("not", try notExpr()) }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        var e = try sum()
        while true {
            if current.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(current.text) {
                let op = advance().text
                e = .binary(op, e, try sum())
            } else if isName("in") {
                p += 1; e = .binary("in", e, try sum())
            } else if isName("not"), tokens[p + 1].kind == .name, tokens[p + 1].text == "in" {
                p += 2; e = .binary("not in", e, try sum())
            } else if isName("is") {
                p += 1
                if isName("not") { p += 1; e = .binary("!=", e, try sum()) } else { e = .binary("==", e, try sum()) }
            } else {
                return e
            }
        }
    }

    private mutating func sum() throws -> Expr {
        var e = try product()
        while isOp("+") || isOp("-") { let op = advance().text; e = .binary(op, e, try product()) }
        return e
    }

    private mutating func product() throws -> Expr {
        var e = try unary()
        while isOp("*") || isOp("%") || isOp("//") { let op = advance().text; e = .binary(op, e, try unary()) }
        return e
    }

    private mutating func unary() throws -> Expr {
        if isOp("-") { p += 1; return .unary("-", try unary()) }
        return try postfix()
    }

    private mutating func postfix() throws -> Expr {
        var e = try atom()
        while true {
            if isOp(".") {
                p += 1
                e = .attribute(e, try nameToken())
            } else if isOp("(") {
                p += 1
                var args: [Expr] = []
                var kwargs: [(String, Expr)] = []
                while !isOp(")") {
                    if current.kind == .name, tokens[p + 1].kind == .op, tokens[p + 1].text == "=" {
                        let k = advance().text
                        p += 1
                        kwargs.append((k, try expression()))
                    } else {
                        if !kwargs.isEmpty { throw ScriptError(line: current.line, "a positional argument follows a keyword argument") }
                        args.append(try expression())
                    }
                    if isOp(",") { p += 1 } else if !isOp(")") {
                        throw ScriptError(line: current.line, "expected ',' or ')' in the argument list but found \(current)")
                    }
                }
                p += 1
                e = .call(e, args, kwargs)
            } else if isOp("[") {
                p += 1
                let i = try expression()
                try expectOp("]")
                e = .index(e, i)
            } else {
                return e
            }
        }
    }

    private mutating func atom() throws -> Expr {
        let t = current
        switch t.kind {
        case .int:
            p += 1
            guard let v = Int(t.text) else {
                if let d = Double(t.text) { return .int(Int(d)) }
                throw ScriptError(line: t.line, "'\(t.text)' is not a number")
            }
            return .int(v)
        case .string, .fstring:
            // Adjacent literals concatenate, as in Python.
            var parts: [Expr.FormatPart] = []
            var formatted = false
            while current.kind == .string || current.kind == .fstring {
                let s = advance()
                if s.kind == .fstring { formatted = true; parts += try formatParts(s) } else { parts.append(.text(s.text)) }
            }
            if !formatted { return .string(parts.map { if case .text(let s) = $0 { return s }; return "" }.joined()) }
            return .format(parts)
        case .name:
            p += 1
            switch t.text {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: return .name(t.text)
            }
        case .op where t.text == "(":
            p += 1
            if isOp(")") { p += 1; return .tuple([]) }
            let first = try expression()
            if isOp(")") { p += 1; return first }
            var items = [first]
            while isOp(",") { p += 1; if isOp(")") { break }; items.append(try expression()) }
            try expectOp(")")
            return .tuple(items)
        case .op where t.text == "[":
            p += 1
            var items: [Expr] = []
            while !isOp("]") {
                items.append(try expression())
                if isOp(",") { p += 1 } else if !isOp("]") { throw ScriptError(line: current.line, "expected ',' or ']' but found \(current)") }
            }
            p += 1
            return .list(items)
        default:
            throw ScriptError(line: t.line, "expected an expression but found \(t)")
        }
    }

    /// `f"a {x} b"`: `{{`/`}}` are braces, `{expr}` is parsed as an expression.
    private func formatParts(_ t: Token) throws -> [Expr.FormatPart] {
        var parts: [Expr.FormatPart] = []
        let s = Array(t.text)
        var i = 0
        var text = ""
        while i < s.count {
            if s[i] == "{" && i + 1 < s.count && s[i + 1] == "{" { text.append("{"); i += 2; continue }
            if s[i] == "}" && i + 1 < s.count && s[i + 1] == "}" { text.append("}"); i += 2; continue }
            if s[i] == "{" {
                guard let close = s[i...].firstIndex(of: "}") else { throw ScriptError(line: t.line, "an f-string has '{' without '}'") }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                var lexer = ScriptLexer(String(s[(i + 1)..<close]))
                var parser = ScriptParser(tokens: try lexer.tokenize().map { var x = $0; x.line = t.line; return x })
                parts.append(.expr(try parser.expression()))
                i = close + 1
                continue
            }
            text.append(s[i]); i += 1
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }
}
