import Foundation

// MARK: - Strings

/// A Nix string: its text plus its context (store paths it refers to).
public struct NixString: Sendable, Hashable {
    public var value: String
    public var context: Set<String>

    public init(_ value: String, context: Set<String> = []) {
        self.value = value
        self.context = context
    }
}

// MARK: - Values

/// A Nix value in weak head normal form (the members of lists and sets are `Thunk`s).
public enum Value: @unchecked Sendable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case null
    case string(NixString)
    case path(String)
    case list([Thunk])
    case attrs(AttrSet)
    case lambda(Closure)
    case primop(PrimOp)

    /// A plain string value without context.
    public static func str(_ s: String) -> Value { .string(NixString(s)) }

    /// A native (Swift) function of one argument.
    public static func native(name: String, _ body: @escaping (Evaluator, Thunk) throws -> Value) -> Value {
        .primop(PrimOp(name: name, arity: 1) { ev, args in try body(ev, args[0]) })
    }

    /// A native (Swift) function of `arity` arguments, curried as Nix does.
    public static func native(name: String, arity: Int, _ body: @escaping (Evaluator, [Thunk]) throws -> Value) -> Value {
        .primop(PrimOp(name: name, arity: arity, body))
    }

    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    public var floatValue: Double? { if case .float(let f) = self { return f }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    public var stringValue: String? { if case .string(let s) = self { return s.value }; return nil }
    public var pathValue: String? { if case .path(let p) = self { return p }; return nil }
    public var listValue: [Thunk]? { if case .list(let l) = self { return l }; return nil }
    public var attrsValue: AttrSet? { if case .attrs(let a) = self { return a }; return nil }
    public var isFunction: Bool {
        switch self {
        case .lambda, .primop: return true
        default: return false
        }
    }

    /// The Nix type name, as `builtins.typeOf` returns it.
    public var typeName: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .null: return "null"
        case .string: return "string"
        case .path: return "path"
        case .list: return "list"
        case .attrs: return "set"
        case .lambda, .primop: return "lambda"
        }
    }

    /// The type name as used in Nix error messages ("a string", "an integer", …).
    var typeDescription: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a float"
        case .bool: return "a Boolean"
        case .null: return "null"
        case .string: return "a string"
        case .path: return "a path"
        case .list: return "a list"
        case .attrs: return "a set"
        case .lambda: return "a function"
        case .primop(let p): return p.applied.isEmpty ? "a built-in function" : "a partially applied built-in function"
        }
    }
}

// MARK: - Thunks

/// A lazily evaluated value, evaluated at most once.
public final class Thunk: @unchecked Sendable {
    enum State {
        case value(Value)
        case expr(Expr, Env)
        case native(() throws -> Value)
        /// `f a` and `f a b` not yet made (map, genList, mapAttrs …): one object per element
        /// instead of a Swift closure context plus a thunk. The function is a thunk too, so
        /// the state stays as small as `.value` and no thunk grows.
        case apply1(Thunk, Thunk)
        case apply2(Thunk, Thunk, Thunk)
        case blackhole
    }
    var state: State

    /// An already evaluated thunk.
    public init(value: Value) { state = .value(value) }
    /// A thunk evaluated by a Swift closure the first time it is forced.
    public init(lazy: @escaping () throws -> Value) { state = .native(lazy) }
    init(_ expr: Expr, _ env: Env) { state = .expr(expr, env) }
    /// `f a`, evaluated when forced.
    init(apply f: Thunk, _ a: Thunk) { state = .apply1(f, a) }
    /// `f a b`, evaluated when forced.
    init(apply f: Thunk, _ a: Thunk, _ b: Thunk) { state = .apply2(f, a, b) }

    /// The value if the thunk has already been evaluated.
    public var evaluatedValue: Value? {
        if case .value(let v) = state { return v }
        return nil
    }

    @inline(__always)
    func force(_ ev: Evaluator) throws -> Value {
        if case .value(let v) = state { return v }
        return try forceSlow(ev)
    }

    func forceSlow(_ ev: Evaluator) throws -> Value {
        switch state {
        case .value(let v): return v
        case .blackhole:
            throw NixError(.infiniteRecursion, "infinite recursion encountered")
        case .expr(let e, let env):
            state = .blackhole
            do {
                let v = try ev.evalForce(e, env)
                state = .value(v)
                return v
            } catch {
                state = .expr(e, env)
                throw error
            }
        case .apply1(let f, let a):
            state = .blackhole
            do {
                let v = try ev.apply(f.force(ev), a, span: nil)
                state = .value(v)
                return v
            } catch {
                state = .apply1(f, a)
                throw error
            }
        case .apply2(let f, let a, let b):
            state = .blackhole
            do {
                try ev.enter()
                defer { ev.leave() }
                let v = try ev.call2(f.force(ev), a, b)
                state = .value(v)
                return v
            } catch {
                state = .apply2(f, a, b)
                throw error
            }
        case .native(let f):
            state = .blackhole
            do {
                try ev.enter()
                defer { ev.leave() }
                let v = try f()
                state = .value(v)
                return v
            } catch {
                state = .native(f)
                throw error
            }
        }
    }
}

// MARK: - Attribute sets

/// A Nix attribute set. `fallback` answers names that are not explicitly present
/// (used for open package sets); listing functions only see the explicit names.
public final class AttrSet: @unchecked Sendable {
    public var dict: [String: Thunk]
    public var fallback: ((String) throws -> Value?)?
    /// Where each explicit attribute was defined, when known (for error messages).
    var positions: [String: Span] = [:]
    private var sortedCache: [String]?

    public init(_ dict: [String: Thunk] = [:], fallback: ((String) throws -> Value?)? = nil) {
        self.dict = dict
        self.fallback = fallback
    }

    /// Convenience: a set of already evaluated values.
    public convenience init(values: [String: Value]) {
        self.init(values.mapValues { Thunk(value: $0) })
    }

    /// Explicit names in Nix (byte-wise) order.
    public var sortedNames: [String] {
        if let s = sortedCache, s.count == dict.count { return s }
        let s = dict.keys.sorted(by: nixLess)
        sortedCache = s
        return s
    }

    public var count: Int { dict.count }

    /// The thunk for a name, consulting the fallback if the name is not explicit.
    public func lookup(_ name: String) throws -> Thunk? {
        if let t = dict[name] { return t }
        if let f = fallback, let v = try f(name) { return Thunk(value: v) }
        return nil
    }

    public func has(_ name: String) throws -> Bool {
        if dict[name] != nil { return true }
        if let f = fallback { return try f(name) != nil }
        return false
    }
}

/// Byte-wise string ordering, as Nix compares strings.
@inline(__always)
func nixLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

// MARK: - Functions

/// A Nix lambda together with its defining environment.
public final class Closure: @unchecked Sendable {
    let lambda: LambdaExpr
    let env: Env
    init(_ lambda: LambdaExpr, _ env: Env) {
        self.lambda = lambda
        self.env = env
    }
}

/// A built-in (native) function, possibly partially applied.
public final class PrimOp: @unchecked Sendable {
    public let name: String
    public let arity: Int
    let applied: [Thunk]
    let body: (Evaluator, [Thunk]) throws -> Value

    public init(name: String, arity: Int, _ body: @escaping (Evaluator, [Thunk]) throws -> Value) {
        self.name = name
        self.arity = max(1, arity)
        self.applied = []
        self.body = body
    }

    init(copy: PrimOp, applied: [Thunk]) {
        name = copy.name
        arity = copy.arity
        self.applied = applied
        body = copy.body
    }
}

// MARK: - Environments

/// A runtime scope: a frame of slots, or a `with` scope.
/// A frame of exactly one slot (a plain `x: …` lambda's argument) keeps it in `one`
/// instead of an array, saving an allocation per call.
final class Env {
    let parent: Env?
    /// `parent` without reference counting, for walking frames in variable lookup.
    let parentU: Unmanaged<Env>?
    var slots: [Thunk]
    let one: Thunk?
    /// For `with` scopes: the attribute set expression's thunk.
    let withThunk: Thunk?

    init(parent: Env?, slots: [Thunk]) {
        self.parent = parent
        self.parentU = parent.map { Unmanaged.passUnretained($0) }
        self.slots = slots
        self.one = nil
        self.withThunk = nil
    }

    init(parent: Env?, one: Thunk) {
        self.parent = parent
        self.parentU = parent.map { Unmanaged.passUnretained($0) }
        self.slots = []
        self.one = one
        self.withThunk = nil
    }

    init(parent: Env?, with: Thunk) {
        self.parent = parent
        self.parentU = parent.map { Unmanaged.passUnretained($0) }
        self.slots = []
        self.one = nil
        self.withThunk = with
    }
}
