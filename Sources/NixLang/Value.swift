import Foundation
import CNixLangSupport

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
    /// An integer, float, Boolean or null: nothing to release.
    var isScalar: Bool {
        switch self {
        case .int, .float, .bool, .null: return true
        default: return false
        }
    }
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

    /// Releasing the last reference to a long chain (a list nested a million deep, a lazy
    /// accumulator) would release each link from the deinit of the one before it and run out
    /// of stack. Past `maxNesting` nested thunk deinits on a thread, a state is parked instead,
    /// and the outermost deinit releases the parked states one by one.
    private static let maxNesting = 256

    private final class Parked { var states: [State] = [] }

    deinit {
        if case .value(let v) = state, v.isScalar { return }
        let nesting = nixlang_deinit_nesting()
        if nesting.pointee >= Thunk.maxNesting {
            let slot = nixlang_deinit_parked()
            if slot.pointee == nil { slot.pointee = Unmanaged.passRetained(Parked()).toOpaque() }
            if let p = slot.pointee { Unmanaged<Parked>.fromOpaque(p).takeUnretainedValue().states.append(state) }
            return
        }
        nesting.pointee &+= 1
        state = .blackhole
        if nesting.pointee == 1, let p = nixlang_deinit_parked().pointee {
            let parked = Unmanaged<Parked>.fromOpaque(p).takeUnretainedValue()
            while let s = parked.states.popLast() { _ = s }
        }
        nesting.pointee &-= 1
    }

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

/// FNV-1a over a name's UTF-8 bytes: what attribute lookups compare before the names.
/// Static names (in the AST) compute it once, at parse time.
@inline(__always)
func nameHash(_ s: String) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    var s = s
    s.withUTF8 { for b in $0 { h = (h ^ UInt32(b)) &* 16_777_619 } }
    return h
}

/// Byte-wise three-way comparison, as Nix orders attribute names and compares strings.
@inline(__always)
func nixCompare(_ a: String, _ b: String) -> Int {
    var a = a, b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in
            let n = Swift.min(pa.count, pb.count)
            if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                let c = memcmp(x, y, n)
                if c != 0 { return Int(c) }
            }
            return pa.count - pb.count
        }
    }
}

/// Byte-wise string ordering, as Nix compares strings.
@inline(__always)
func nixLess(_ a: String, _ b: String) -> Bool { nixCompare(a, b) < 0 }

/// The names of an attribute set in Nix order, with their hashes. Immutable, so sets with the
/// same names share one: every set an attribute set expression makes, every `mapAttrs`
/// result, and a `//` whose right side only overrides names of its left side.
final class AttrKeys: @unchecked Sendable {
    let names: [String]
    let hashes: [UInt32]
    /// Open addressing from hash to index + 1 (0 = empty), built at the first lookup in a large set.
    private var table: [Int32] = []

    static let empty = AttrKeys(sorted: [])

    /// `names` must be sorted by `nixLess` and unique.
    init(sorted names: [String]) {
        self.names = names
        self.hashes = names.map(nameHash)
    }

    init(sorted names: [String], hashes: [UInt32]) {
        self.names = names
        self.hashes = hashes
    }

    var count: Int { names.count }

    /// The index of `name` (whose `nameHash` is `hash`), if present.
    @inline(__always)
    func index(of name: String, hash: UInt32) -> Int? {
        let n = hashes.count
        if n > 12 { return indexedLookup(name, hash) }
        return hashes.withUnsafeBufferPointer { hs in
            var i = 0
            while i < n {
                if hs[i] == hash && names[i] == name { return i }
                i &+= 1
            }
            return nil
        }
    }

    private func indexedLookup(_ name: String, _ hash: UInt32) -> Int? {
        if table.isEmpty { buildTable() }
        let mask = table.count - 1
        var slot = Int(hash) & mask
        while true {
            let e = Int(table[slot])
            if e == 0 { return nil }
            if hashes[e - 1] == hash && names[e - 1] == name { return e - 1 }
            slot = (slot &+ 1) & mask
        }
    }

    private func buildTable() {
        var size = 32
        while size < hashes.count * 2 { size <<= 1 }
        var t = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for (i, h) in hashes.enumerated() {
            var slot = Int(h) & mask
            while t[slot] != 0 { slot = (slot &+ 1) & mask }
            t[slot] = Int32(i + 1)
        }
        table = t
    }
}

/// A Nix attribute set: names in Nix order (shared `AttrKeys`), their thunks, and where each
/// was defined when known (for error messages and `unsafeGetAttrPos`). `fallback` answers
/// names that are not explicitly present (used for open package sets); listing functions only
/// see the explicit names.
public final class AttrSet: @unchecked Sendable {
    private(set) var keys: AttrKeys
    private(set) var values: [Thunk]
    /// Parallel to `keys`, or nil when no position is known.
    private(set) var positions: [Span?]?
    public var fallback: ((String) throws -> Value?)?

    init(keys: AttrKeys, values: [Thunk], positions: [Span?]? = nil, fallback: ((String) throws -> Value?)? = nil) {
        self.keys = keys
        self.values = values
        self.positions = positions
        self.fallback = fallback
    }

    /// A set of the given attributes.
    public convenience init(_ dict: [String: Thunk] = [:], fallback: ((String) throws -> Value?)? = nil) {
        let pairs = dict.sorted { nixLess($0.key, $1.key) }
        self.init(keys: AttrKeys(sorted: pairs.map { $0.key }), values: pairs.map { $0.value }, fallback: fallback)
    }

    /// Convenience: a set of already evaluated values.
    public convenience init(values: [String: Value]) {
        self.init(values.mapValues { Thunk(value: $0) })
    }

    /// A set of `entries` in any order; of equal names, the first wins.
    convenience init(entries: [(name: String, value: Thunk)], positions entryPositions: [Span?]? = nil) {
        var order = Array(entries.indices)
        // Stable: equal names keep their order, so the first is the one kept.
        order.sort { i, j in
            let c = nixCompare(entries[i].name, entries[j].name)
            return c < 0 || (c == 0 && i < j)
        }
        var names: [String] = [], values: [Thunk] = []
        var pos: [Span?]? = entryPositions == nil ? nil : []
        names.reserveCapacity(order.count)
        values.reserveCapacity(order.count)
        for i in order {
            if let last = names.last, last == entries[i].name { continue }
            names.append(entries[i].name)
            values.append(entries[i].value)
            pos?.append(entryPositions?[i])
        }
        self.init(keys: AttrKeys(sorted: names), values: values, positions: pos)
    }

    /// Explicit names in Nix (byte-wise) order.
    public var sortedNames: [String] { keys.names }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }

    /// The explicit attribute `name` (not consulting the fallback).
    @inline(__always)
    public subscript(_ name: String) -> Thunk? { self[name, nameHash(name)] }

    @inline(__always)
    subscript(_ name: String, _ hash: UInt32) -> Thunk? {
        guard let i = keys.index(of: name, hash: hash) else { return nil }
        return values[i]
    }

    /// The thunk for a name, consulting the fallback if the name is not explicit.
    public func lookup(_ name: String) throws -> Thunk? { try lookup(name, nameHash(name)) }

    @inline(__always)
    func lookup(_ name: String, _ hash: UInt32) throws -> Thunk? {
        if let i = keys.index(of: name, hash: hash) { return values[i] }
        if let f = fallback, let v = try f(name) { return Thunk(value: v) }
        return nil
    }

    public func has(_ name: String) throws -> Bool {
        if self[name] != nil { return true }
        if let f = fallback { return try f(name) != nil }
        return false
    }

    /// Where attribute `name` was defined, when known.
    func position(_ name: String) -> Span? {
        guard let p = positions, let i = keys.index(of: name, hash: nameHash(name)) else { return nil }
        return p[i]
    }

    func position(at i: Int) -> Span? { positions?[i] }

    /// A new set of the attributes whose index passes `keep` (names stay in order, so the
    /// result needs no sorting; if all pass, it shares these names).
    func selecting(_ keep: (Int) -> Bool) -> AttrSet {
        let kept = values.indices.filter(keep)
        if kept.count == count { return AttrSet(keys: keys, values: values, positions: positions) }
        return AttrSet(keys: AttrKeys(sorted: kept.map { keys.names[$0] }, hashes: kept.map { keys.hashes[$0] }),
                       values: kept.map { values[$0] }, positions: positions.map { p in kept.map { p[$0] } })
    }

    /// Adds or replaces one attribute in place (O(n): for building the builtins set and for
    /// the rare `__overrides`).
    func set(_ name: String, _ t: Thunk) {
        if let i = keys.index(of: name, hash: nameHash(name)) {
            values[i] = t
            return
        }
        var names = keys.names
        let at = names.firstIndex { nixLess(name, $0) } ?? names.count
        names.insert(name, at: at)
        values.insert(t, at: at)
        positions?.insert(nil, at: at)
        keys = AttrKeys(sorted: names)
    }
}

/// `x // y`: y's attributes over x's.
func updateAttrs(_ x: AttrSet, _ y: AttrSet) -> AttrSet {
    if x.isEmpty && x.fallback == nil { return y }
    if y.isEmpty && y.fallback == nil { return x }
    var fb: ((String) throws -> Value?)? = nil
    if x.fallback != nil || y.fallback != nil {
        let fx = x.fallback, fy = y.fallback
        fb = { name in
            if let f = fy, let v = try f(name) { return v }
            if let f = fx, let v = try f(name) { return v }
            return nil
        }
    }
    let xk = x.keys, yk = y.keys
    if xk === yk { return AttrSet(keys: yk, values: y.values, positions: y.positions, fallback: fb) }
    // The common `attrs // { some = …; }` overriding existing names: x's keys, shared.
    // (Found names are checked first, so that a miss copies nothing.)
    if yk.count <= xk.count, (0..<yk.count).allSatisfy({ xk.index(of: yk.names[$0], hash: yk.hashes[$0]) != nil }) {
        var values = x.values
        var positions = x.positions
        if positions == nil && y.positions != nil { positions = [Span?](repeating: nil, count: xk.count) }
        for j in 0..<yk.count {
            guard let i = xk.index(of: yk.names[j], hash: yk.hashes[j]) else { continue }
            values[i] = y.values[j]
            if positions != nil { positions?[i] = y.positions?[j] }
        }
        return AttrSet(keys: xk, values: values, positions: positions, fallback: fb)
    }
    // Merge the two sorted name lists.
    let n = xk.count, m = yk.count
    var names: [String] = [], hashes: [UInt32] = [], values: [Thunk] = []
    names.reserveCapacity(n + m)
    hashes.reserveCapacity(n + m)
    values.reserveCapacity(n + m)
    let withPos = x.positions != nil || y.positions != nil
    var positions: [Span?] = []
    if withPos { positions.reserveCapacity(n + m) }
    var i = 0, j = 0
    while i < n || j < m {
        let c: Int
        if i == n { c = 1 } else if j == m { c = -1 } else { c = nixCompare(xk.names[i], yk.names[j]) }
        if c < 0 {
            names.append(xk.names[i]); hashes.append(xk.hashes[i]); values.append(x.values[i])
            if withPos { positions.append(x.positions?[i]) }
            i += 1
        } else {
            names.append(yk.names[j]); hashes.append(yk.hashes[j]); values.append(y.values[j])
            if withPos { positions.append(y.positions?[j]) }
            j += 1
            if c == 0 { i += 1 }
        }
    }
    return AttrSet(keys: AttrKeys(sorted: names, hashes: hashes), values: values,
                   positions: withPos ? positions : nil, fallback: fb)
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
    var slots: [Thunk]
    /// The one slot of a single-argument lambda's frame, or a `with` frame's attribute set
    /// expression (static lookups never land on a `with` frame, so the two cannot be confused).
    let one: Thunk?
    let isWith: Bool

    init(parent: Env?, slots: [Thunk]) {
        self.parent = parent
        self.slots = slots
        self.one = nil
        self.isWith = false
    }

    init(parent: Env?, one: Thunk) {
        self.parent = parent
        self.slots = []
        self.one = one
        self.isWith = false
    }

    init(parent: Env?, with: Thunk) {
        self.parent = parent
        self.slots = []
        self.one = with
        self.isWith = true
    }

    /// For `with` frames: the attribute set expression's thunk.
    var withThunk: Thunk? { isWith ? one : nil }
}
