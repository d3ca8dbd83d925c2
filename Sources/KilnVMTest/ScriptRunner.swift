import Foundation
import KilnSupport

/// A value in a running test script.
public indirect enum ScriptValue: Sendable, Equatable, CustomStringConvertible {
    case str(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([ScriptValue])
    case list([ScriptValue])
    case machine(String)
    case function(String)
    case method(ScriptValue, String)
    case subtest(String)

    public var description: String {
        switch self {
        case .str(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let v): return "(" + v.map(\.repr).joined(separator: ", ") + (v.count == 1 ? ",)" : ")")
        case .list(let v): return "[" + v.map(\.repr).joined(separator: ", ") + "]"
        case .machine(let n): return "<Machine '\(n)'>"
        case .function(let n): return "<function \(n)>"
        case .method(let o, let n): return "<method \(n) of \(o.repr)>"
        case .subtest(let n): return "<subtest '\(n)'>"
        }
    }

    /// Python's repr: strings quoted.
    public var repr: String {
        if case .str(let s) = self {
            return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                .replacingOccurrences(of: "\n", with: "\\n") + "'"
        }
        return description
    }

    var truthy: Bool {
        switch self {
        case .str(let s): return !s.isEmpty
        case .int(let i): return i != 0
        case .bool(let b): return b
        case .none: return false
        case .tuple(let v), .list(let v): return !v.isEmpty
        default: return true
        }
    }

    var typeName: String {
        switch self {
        case .str: return "str"
        case .int: return "int"
        case .bool: return "bool"
        case .none: return "NoneType"
        case .tuple: return "tuple"
        case .list: return "list"
        case .machine: return "Machine"
        case .function, .method: return "function"
        case .subtest: return "subtest"
        }
    }
}

/// The arguments of one call, with helpers that bind them to parameter names.
public struct CallArguments: Sendable {
    public var positional: [ScriptValue]
    public var keywords: [String: ScriptValue]
    public var function: String

    public init(_ function: String, positional: [ScriptValue] = [], keywords: [String: ScriptValue] = [:]) {
        self.function = function; self.positional = positional; self.keywords = keywords
    }

    /// Checks that only `names` are used and returns the value of each bound name.
    public func bind(_ names: [String], required: Int = 0) throws -> [String: ScriptValue] {
        guard positional.count <= names.count else {
            throw KilnError("\(function)() takes at most \(names.count) arguments (\(positional.count) given)")
        }
        var out: [String: ScriptValue] = [:]
        for (i, v) in positional.enumerated() { out[names[i]] = v }
        for (k, v) in keywords {
            guard names.contains(k) else { throw KilnError("\(function)() got an unexpected keyword argument '\(k)'") }
            guard out[k] == nil else { throw KilnError("\(function)() got multiple values for argument '\(k)'") }
            out[k] = v
        }
        for n in names.prefix(required) where out[n] == nil {
            throw KilnError("\(function)() is missing the argument '\(n)'")
        }
        return out
    }
}

extension Dictionary where Key == String, Value == ScriptValue {
    func string(_ k: String) throws -> String? {
        switch self[k] {
        case nil, .none?: return nil
        case .str(let s)?: return s
        case let v?: throw KilnError("argument '\(k)' must be a string, not \(v.typeName)")
        }
    }
    func number(_ k: String) throws -> Double? {
        switch self[k] {
        case nil, .none?: return nil
        case .int(let i)?: return Double(i)
        case .str(let s)?: if let d = Double(s) { return d }; throw KilnError("argument '\(k)' must be a number, not '\(s)'")
        case let v?: throw KilnError("argument '\(k)' must be a number, not \(v.typeName)")
        }
    }
    func bool(_ k: String) -> Bool? { self[k].map(\.truthy) }
}

/// What the script runs against: the driver, or a fake in unit tests.
public protocol ScriptHost: AnyObject {
    var machineNames: [String] { get }
    func callMachine(_ machine: String, _ method: String, _ args: CallArguments) throws -> ScriptValue
    func startAll() throws
    func beginSubtest(_ name: String)
    func endSubtest(_ name: String, error: Error?)
    func log(_ text: String)
}

/// Runs a parsed `TestScript` statement by statement. Any failure becomes a `ScriptError`
/// that names the script line it happened on.
public final class ScriptRunner {
    private let host: ScriptHost
    private var variables: [String: ScriptValue] = [:]

    public init(host: ScriptHost) {
        self.host = host
        for m in host.machineNames { variables[m] = .machine(m) }
        variables["machines"] = .list(host.machineNames.map { .machine($0) })
        for f in ["start_all", "subtest", "print", "len", "str", "int", "sleep", "join_all"] { variables[f] = .function(f) }
    }

    public func run(_ script: TestScript) throws {
        try run(script.statements)
    }

    private func run(_ statements: [Statement]) throws {
        for s in statements { try run(s) }
    }

    private func run(_ s: Statement) throws {
        do {
            switch s.kind {
            case .pass: break
            case .expr(let e): _ = try eval(e, line: s.line)
            case .assign(let names, let e):
                let v = try eval(e, line: s.line)
                if names.count == 1 { variables[names[0]] = v; break }
                guard case .tuple(let items) = v, items.count == names.count else {
                    throw KilnError("cannot unpack \(v.typeName) into \(names.count) names")
                }
                for (n, x) in zip(names, items) { variables[n] = x }
            case .assert(let cond, let msg):
                if !(try eval(cond, line: s.line)).truthy {
                    var text = "assertion failed: " + describe(cond)
                    if let msg { text += ": " + (try eval(msg, line: s.line)).description }
                    if case .binary(let op, let l, let r) = cond, ["in", "not in", "==", "!="].contains(op) {
                        text += "\n  left:  " + Self.short((try eval(l, line: s.line)).repr)
                        text += "\n  right: " + Self.short((try eval(r, line: s.line)).repr)
                    }
                    throw KilnError(text)
                }
            case .with(let e, let body, let alias):
                let ctx = try eval(e, line: s.line)
                guard case .subtest(let name) = ctx else {
                    throw KilnError("'with' takes subtest(\"…\"), not \(ctx.typeName)")
                }
                if let alias { variables[alias] = ScriptValue.none }
                host.beginSubtest(name)
                do { try run(body) } catch { host.endSubtest(name, error: error); throw error }
                host.endSubtest(name, error: nil)
            case .if(let branches, let otherwise):
                for (cond, body) in branches where (try eval(cond, line: s.line)).truthy {
                    try run(body); return
                }
                try run(otherwise)
            case .for(let v, let e, let body):
                let seq = try eval(e, line: s.line)
                guard case .list(let items) = seq else {
                    if case .tuple(let items) = seq { for x in items { variables[v] = x; try run(body) }; return }
                    throw KilnError("cannot loop over \(seq.typeName)")
                }
                for x in items { variables[v] = x; try run(body) }
            }
        } catch let e as ScriptError {
            throw e
        } catch {
            throw ScriptError(line: s.line, error.kilnMessage)
        }
    }

    static func short(_ s: String) -> String { s.count > 500 ? String(s.prefix(500)) + "…" : s }

    private func describe(_ e: Expr) -> String {
        switch e {
        case .name(let n): return n
        case .string(let s): return ScriptValue.str(s).repr
        case .format: return "f\"…\""
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let v): return "(" + v.map(describe).joined(separator: ", ") + ")"
        case .list(let v): return "[" + v.map(describe).joined(separator: ", ") + "]"
        case .attribute(let o, let n): return describe(o) + "." + n
        case .index(let o, let i): return describe(o) + "[" + describe(i) + "]"
        case .call(let f, let a, let k): return describe(f) + "(" + (a.map(describe) + k.map { "\($0.0)=\(describe($0.1))" }).joined(separator: ", ") + ")"
        case .unary(let op, let x): return op + (op == "not" ? " " : "") + describe(x)
        case .binary(let op, let l, let r): return describe(l) + " \(op) " + describe(r)
        }
    }

    func eval(_ e: Expr, line: Int) throws -> ScriptValue {
        switch e {
        case .string(let s): return .str(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .format(let parts):
            return .str(try parts.map { p -> String in
                switch p {
                case .text(let t): return t
                case .expr(let x): return (try eval(x, line: line)).description
                }
            }.joined())
        case .name(let n):
            guard let v = variables[n] else { throw KilnError("name '\(n)' is not defined" + (host.machineNames.isEmpty ? "" : " (machines: \(host.machineNames.joined(separator: ", ")))")) }
            return v
        case .tuple(let items): return .tuple(try items.map { try eval($0, line: line) })
        case .list(let items): return .list(try items.map { try eval($0, line: line) })
        case .attribute(let o, let n): return .method(try eval(o, line: line), n)
        case .index(let o, let i):
            let ov = try eval(o, line: line), iv = try eval(i, line: line)
            guard case .int(var k) = iv else { throw KilnError("indices must be integers, not \(iv.typeName)") }
            let items: [ScriptValue]
            switch ov {
            case .tuple(let v), .list(let v): items = v
            case .str(let s): items = s.map { .str(String($0)) }
            default: throw KilnError("\(ov.typeName) cannot be indexed")
            }
            if k < 0 { k += items.count }
            guard k >= 0 && k < items.count else { throw KilnError("index \(k) out of range") }
            return items[k]
        case .unary(let op, let x):
            let v = try eval(x, line: line)
            if op == "not" { return .bool(!v.truthy) }
            guard case .int(let i) = v else { throw KilnError("bad operand type for unary -: \(v.typeName)") }
            return .int(-i)
        case .binary(let op, let l, let r):
            if op == "and" { let a = try eval(l, line: line); return a.truthy ? try eval(r, line: line) : a }
            if op == "or" { let a = try eval(l, line: line); return a.truthy ? a : try eval(r, line: line) }
            return try binary(op, try eval(l, line: line), try eval(r, line: line))
        case .call(let f, let args, let kwargs):
            let fv = try eval(f, line: line)
            let a = try args.map { try eval($0, line: line) }
            var k: [String: ScriptValue] = [:]
            for (n, x) in kwargs { k[n] = try eval(x, line: line) }
            return try call(fv, a, k)
        }
    }

    private func binary(_ op: String, _ a: ScriptValue, _ b: ScriptValue) throws -> ScriptValue {
        switch (op, a, b) {
        case ("==", _, _): return .bool(a == b)
        case ("!=", _, _): return .bool(a != b)
        case ("in", _, _), ("not in", _, _):
            let found: Bool
            switch (a, b) {
            case (.str(let x), .str(let y)): found = x.isEmpty || y.contains(x)
            case (_, .list(let v)), (_, .tuple(let v)): found = v.contains(a)
            default: throw KilnError("'in' needs a string or a list on the right, not \(b.typeName)")
            }
            return .bool(op == "in" ? found : !found)
        case ("+", .str(let x), .str(let y)): return .str(x + y)
        case ("+", .int(let x), .int(let y)): return .int(x + y)
        case ("+", .list(let x), .list(let y)): return .list(x + y)
        case ("-", .int(let x), .int(let y)): return .int(x - y)
        case ("*", .int(let x), .int(let y)): return .int(x * y)
        case ("*", .str(let x), .int(let y)): return .str(String(repeating: x, count: max(0, y)))
        case ("//", .int(let x), .int(let y)) where y != 0: return .int(x / y)
        case ("%", .int(let x), .int(let y)) where y != 0: return .int(x % y)
        case ("<", .int(let x), .int(let y)): return .bool(x < y)
        case (">", .int(let x), .int(let y)): return .bool(x > y)
        case ("<=", .int(let x), .int(let y)): return .bool(x <= y)
        case (">=", .int(let x), .int(let y)): return .bool(x >= y)
        default: throw KilnError("unsupported operand types for \(op): \(a.typeName) and \(b.typeName)")
        }
    }

    private func call(_ f: ScriptValue, _ args: [ScriptValue], _ kwargs: [String: ScriptValue]) throws -> ScriptValue {
        switch f {
        case .method(.machine(let m), let name):
            return try host.callMachine(m, name, CallArguments("\(m).\(name)", positional: args, keywords: kwargs))
        case .method(.str(let s), let name):
            return try stringMethod(s, name, args)
        case .function(let name):
            let a = CallArguments(name, positional: args, keywords: kwargs)
            switch name {
            case "start_all":
                _ = try a.bind([])
                try host.startAll(); return .none
            case "join_all": return .none
            case "subtest":
                guard let n = try a.bind(["name"], required: 1).string("name") else { throw KilnError("subtest() needs a name") }
                return .subtest(n)
            case "print":
                host.log(args.map(\.description).joined(separator: " ")); return .none
            case "len":
                switch try a.bind(["obj"], required: 1)["obj"] {
                case .str(let s)?: return .int(s.count)
                case .list(let v)?, .tuple(let v)?: return .int(v.count)
                case let v?: throw KilnError("object of type \(v.typeName) has no len()")
                case nil: return .int(0)
                }
            case "str": return .str((try a.bind(["obj"], required: 1)["obj"] ?? .none).description)
            case "int":
                let v = try a.bind(["obj"], required: 1)["obj"] ?? .none
                if case .int = v { return v }
                if case .str(let s) = v, let i = Int(s.trimmingCharacters(in: .whitespacesAndNewlines)) { return .int(i) }
                throw KilnError("invalid literal for int(): \(v.repr)")
            case "sleep":
                let secs = try a.bind(["secs"], required: 1).number("secs") ?? 0
                Thread.sleep(forTimeInterval: secs); return .none
            default: throw KilnError("\(name) is not callable")
            }
        default:
            if case .method(let o, let n) = f { throw KilnError("\(o.typeName) has no method '\(n)'") }
            throw KilnError("'\(f.typeName)' object is not callable")
        }
    }

    private func stringMethod(_ s: String, _ name: String, _ args: [ScriptValue]) throws -> ScriptValue {
        let arg: String? = args.first.flatMap { if case .str(let x) = $0 { return x }; return nil }
        switch name {
        case "strip": return .str(s.trimmingCharacters(in: .whitespacesAndNewlines))
        case "rstrip": return .str(String(s.reversed().drop(while: { $0.isWhitespace }).reversed()))
        case "lstrip": return .str(String(s.drop(while: { $0.isWhitespace })))
        case "lower": return .str(s.lowercased())
        case "upper": return .str(s.uppercased())
        case "splitlines": return .list(s.split(separator: "\n", omittingEmptySubsequences: false).map { .str(String($0)) }.dropLast(s.hasSuffix("\n") ? 1 : 0))
        case "split":
            if let arg { return .list(s.components(separatedBy: arg).map { .str($0) }) }
            return .list(s.split(whereSeparator: { $0.isWhitespace }).map { .str(String($0)) })
        case "startswith": return .bool(s.hasPrefix(arg ?? ""))
        case "endswith": return .bool(s.hasSuffix(arg ?? ""))
        case "count": return .int(arg.map { $0.isEmpty ? s.count + 1 : s.components(separatedBy: $0).count - 1 } ?? 0)
        case "replace":
            guard args.count == 2, case .str(let a) = args[0], case .str(let b) = args[1] else { throw KilnError("replace() takes two strings") }
            return .str(s.replacingOccurrences(of: a, with: b))
        default: throw KilnError("str has no method '\(name)'")
        }
    }
}
