import Foundation

// MARK: - Scopes (compile time)

/// A compile-time scope used to resolve variables to (level, slot) pairs. Names are found by
/// their `nameHash` (VarExpr computes it once): a scan for the usual handful of names, an
/// open-addressing table of slot numbers for large scopes (the globals).
final class Scope {
    let parent: Scope?
    private(set) var names: [String] = []
    private var hashes: [UInt32] = []
    /// For more than 16 names: slot numbers by hash (linear probing), -1 for empty.
    private var table: [Int32] = []
    let isWith: Bool

    init(parent: Scope?, isWith: Bool = false) {
        self.parent = parent
        self.isWith = isWith
    }

    /// Slot i holds `ordered[i]`; of repeated names, the last slot wins.
    init(parent: Scope?, ordered: [String]) {
        self.parent = parent
        self.isWith = false
        for n in ordered { append(n) }
    }

    /// The slot of `name`, if this scope binds it.
    func slot(of name: String, hash: UInt32) -> Int? {
        if !table.isEmpty {
            let mask = table.count - 1
            var i = Int(hash) & mask
            while table[i] >= 0 {
                let k = Int(table[i])
                if hashes[k] == hash && names[k] == name { return k }
                i = (i + 1) & mask
            }
            return nil
        }
        var i = hashes.count - 1
        while i >= 0 {
            if hashes[i] == hash && names[i] == name { return i }
            i -= 1
        }
        return nil
    }

    /// Binds `name` to the next slot; returns that slot.
    @discardableResult
    func append(_ name: String) -> Int {
        let i = names.count
        names.append(name)
        hashes.append(nameHash(name))
        if !table.isEmpty && names.count * 2 <= table.count {
            insert(i)
        } else if names.count > 16 {
            table = [Int32](repeating: -1, count: max(64, (names.count * 4).nextPowerOf2))
            for k in names.indices { insert(k) }
        }
        return i
    }

    /// Puts slot k in the table, over an earlier slot of the same name.
    private func insert(_ k: Int) {
        let mask = table.count - 1
        var i = Int(hashes[k]) & mask
        while table[i] >= 0 {
            let j = Int(table[i])
            if hashes[j] == hashes[k] && names[j] == names[k] { break }
            i = (i + 1) & mask
        }
        table[i] = Int32(k)
    }
}

private extension Int {
    /// The smallest power of two not below self (self > 0).
    var nextPowerOf2: Int { 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}

// MARK: - Expressions

/// Base class of all AST nodes. Each node carries its source span.
class Expr {
    let span: Span
    init(span: Span) { self.span = span }

    /// Resolves variables against the compile-time scope.
    func bind(_ s: Scope) throws {}

    /// Evaluates to weak head normal form.
    func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        throw NixError(.other, "cannot evaluate this expression", span: span)
    }

    /// Makes a thunk for this expression (cheap for constants and variables).
    func thunk(_ env: Env, _ ev: Evaluator) -> Thunk { Thunk(self, env) }
}

final class ConstExpr: Expr {
    let value: Value
    /// One shared evaluated thunk (a value thunk never changes state).
    let cachedThunk: Thunk
    init(_ v: Value, span: Span) {
        value = v
        cachedThunk = Thunk(value: v)
        super.init(span: span)
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value { value }
    override func thunk(_ env: Env, _ ev: Evaluator) -> Thunk { cachedThunk }
}

final class VarExpr: Expr {
    let name: String
    /// `nameHash(name)`, for lookups in `with` scopes.
    let hash: UInt32
    var level = -1
    var index = 0
    init(_ name: String, span: Span) {
        self.name = name
        self.hash = nameHash(name)
        super.init(span: span)
    }

    override func bind(_ s: Scope) throws {
        var level = 0
        var cur: Scope? = s
        var hasWith = false
        while let sc = cur {
            if sc.isWith {
                hasWith = true
            } else if let i = sc.slot(of: name, hash: hash) {
                self.level = level
                self.index = i
                return
            }
            level += 1
            cur = sc.parent
        }
        if !hasWith {
            throw NixError(.undefinedVariable, "undefined variable '\(name)'", span: span)
        }
        self.level = -1
    }

    /// The thunk of a statically bound variable, or nil if its frame's slots are not filled
    /// yet (a `let` or `rec` binding naming a sibling while the frame is being built).
    @inline(__always)
    func boundThunk(_ env: Env) -> Thunk? {
        // Walk the frames without retaining each one (`env` keeps them all alive).
        var e = Unmanaged.passUnretained(env)
        var l = level
        while l > 0 {
            guard let p = e._withUnsafeGuaranteedRef({ $0.parent.map { Unmanaged.passUnretained($0) } }) else { return nil }
            e = p
            l -= 1
        }
        let index = self.index
        return e._withUnsafeGuaranteedRef { f -> Thunk? in
            if index == 0, let o = f.one { return o }
            return index < f.slots.count ? f.slots[index] : nil
        }
    }

    @inline(__always)
    func lookup(_ env: Env, _ ev: Evaluator) throws -> Thunk {
        if level >= 0 {
            if let t = boundThunk(env) { return t }
            throw NixError(.other, "internal error: bad variable slot for '\(name)'", span: span)
        }
        var cur: Env? = env
        while let e = cur {
            if let w = e.withThunk {
                let v = try w.force(ev)
                guard case .attrs(let a) = v else {
                    throw typeError("value is \(v.typeDescription) while a set was expected", span)
                }
                if let t = try a.lookup(name, hash) { return t }
            }
            cur = e.parent
        }
        throw NixError(.undefinedVariable, "undefined variable '\(name)'", span: span)
    }

    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let t = try lookup(env, ev)
        do {
            return try t.force(ev)
        } catch var e as NixError {
            if e.span == nil { e.span = span }
            throw e
        }
    }

    override func thunk(_ env: Env, _ ev: Evaluator) -> Thunk {
        if level >= 0, let t = boundThunk(env) { return t }
        return Thunk(self, env)
    }
}

enum AttrName {
    case name(String)
    case dynamic(Expr)
}

func bindNames(_ names: [AttrName], _ s: Scope) throws {
    for n in names { if case .dynamic(let e) = n { try e.bind(s) } }
}

/// The hash of each static name of an attribute path (0 for dynamic ones).
func nameHashes(_ path: [AttrName]) -> [UInt32] {
    path.map { n in
        if case .name(let s) = n { return nameHash(s) }
        return 0
    }
}

final class SelectExpr: Expr {
    let target: Expr
    let path: [AttrName]
    let hashes: [UInt32]
    let fallback: Expr?
    init(_ t: Expr, _ p: [AttrName], _ d: Expr?, span: Span) {
        target = t; path = p; fallback = d
        hashes = nameHashes(p)
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        try target.bind(s)
        try bindNames(path, s)
        try fallback?.bind(s)
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        var v = try target.eval(env, ev)
        for (k, n) in path.enumerated() {
            let name: String, hash: UInt32
            switch n {
            case .name(let s): name = s; hash = hashes[k]
            case .dynamic: name = try ev.attrName(n, env); hash = nameHash(name)
            }
            guard case .attrs(let a) = v else {
                if let d = fallback { return try d.eval(env, ev) }
                throw typeError("value is \(v.typeDescription) while a set was expected", span)
            }
            guard let t = try a.lookup(name, hash) else {
                if let d = fallback { return try d.eval(env, ev) }
                throw NixError(.missingAttribute, "attribute '\(name)' missing", span: span)
            }
            do {
                v = try t.force(ev)
            } catch var e as NixError {
                if e.span == nil { e.span = a.position(name) ?? span }
                throw e
            }
        }
        return v
    }
}

final class HasAttrExpr: Expr {
    let target: Expr
    let path: [AttrName]
    let hashes: [UInt32]
    init(_ t: Expr, _ p: [AttrName], span: Span) {
        target = t; path = p
        hashes = nameHashes(p)
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        try target.bind(s)
        try bindNames(path, s)
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        var v = try target.eval(env, ev)
        for (i, n) in path.enumerated() {
            let name: String, hash: UInt32
            switch n {
            case .name(let s): name = s; hash = hashes[i]
            case .dynamic: name = try ev.attrName(n, env); hash = nameHash(name)
            }
            guard case .attrs(let a) = v, let t = try a.lookup(name, hash) else { return .bool(false) }
            if i < path.count - 1 { v = try t.force(ev) }
        }
        return .bool(true)
    }
}

final class ListExpr: Expr {
    let items: [Expr]
    init(_ items: [Expr], span: Span) {
        self.items = items
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { for i in items { try i.bind(s) } }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        .list(items.map { $0.thunk(env, ev) })
    }
}

/// One static attribute definition inside a set or let.
final class AttrDef {
    var expr: Expr
    /// `inherit x;` — evaluated in the enclosing (non-recursive) scope.
    let inherited: Bool
    let span: Span
    init(_ e: Expr, inherited: Bool, span: Span) {
        expr = e
        self.inherited = inherited
        self.span = span
    }
}

struct DynamicAttrDef {
    let name: Expr
    let value: Expr
    let span: Span
}

final class AttrsExpr: Expr {
    var rec: Bool
    var names: [String] = []
    var defs: [String: AttrDef] = [:]
    var dynamic: [DynamicAttrDef] = []

    init(rec: Bool, span: Span) {
        self.rec = rec
        super.init(span: span)
    }

    override func bind(_ s: Scope) throws {
        for n in names { if let l = defs[n]?.expr as? LambdaExpr, l.name == nil { l.name = n } }
        if rec {
            let inner = Scope(parent: s, ordered: names)
            for n in names {
                guard let d = defs[n] else { continue }
                try d.expr.bind(d.inherited ? s : inner)
            }
            for d in dynamic {
                try d.name.bind(inner)
                try d.value.bind(inner)
            }
        } else {
            for n in names {
                guard let d = defs[n] else { continue }
                try d.expr.bind(s)
            }
            for d in dynamic {
                try d.name.bind(s)
                try d.value.bind(s)
            }
        }
    }

    /// Computed on first evaluation: the static attributes in declaration order (the order
    /// of a `rec` set's or a `let`'s slots) as flat arrays, so that evaluating walks them
    /// without copying names or definitions.
    private var prepared = false
    private var slotExprs: [Expr] = []
    /// Per slot: `inherit x;` (made in the enclosing scope), or a constant (no frame needed).
    private var slotKinds: [SlotKind] = []
    /// The static names in Nix order and their positions, shared by every set this expression
    /// makes; `sortedOrder[k]` is the declaration index of the k-th name.
    private var staticKeys = AttrKeys.empty
    private var staticPositions: [Span?] = []
    private var sortedOrder: [Int] = []
    /// `slotExprs` in Nix order (a non-recursive set's values).
    private var sortedExprs: [Expr] = []
    private var hasOverrides = false

    enum SlotKind { case inherited, constant, plain }

    func prepare() {
        if prepared { return }
        var o: [(name: String, def: AttrDef)] = []
        for n in names {
            guard let d = defs[n] else { continue }
            o.append((n, d))
        }
        hasOverrides = defs["__overrides"] != nil
        slotExprs = o.map { $0.def.expr }
        slotKinds = o.map { $0.def.inherited ? .inherited : $0.def.expr is ConstExpr ? .constant : .plain }
        let perm = o.indices.sorted { nixLess(o[$0].name, o[$1].name) }
        sortedOrder = perm
        sortedExprs = perm.map { o[$0].def.expr }
        staticKeys = AttrKeys(sorted: perm.map { o[$0].name })
        staticPositions = perm.map { o[$0].def.span }
        prepared = true
    }

    /// The thunks of the slots of a `let` or `rec` frame `inner` inside `env`. A `rec` set
    /// makes each one `lazy`: `__overrides` may still replace a sibling it names.
    @inline(__always)
    func slotThunks(_ env: Env, _ inner: Env, _ ev: Evaluator, lazy: Bool) -> [Thunk] {
        var slots: [Thunk] = []
        slots.reserveCapacity(slotExprs.count)
        for k in 0..<slotExprs.count {
            let e = slotExprs[k]
            switch slotKinds[k] {
            case .inherited: slots.append(e.thunk(env, ev))
            case .constant: slots.append(e.thunk(inner, ev))
            case .plain: slots.append(lazy ? Thunk(e, inner) : e.thunk(inner, ev))
            }
        }
        return slots
    }

    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        prepare()
        var values: [Thunk] = []
        values.reserveCapacity(sortedExprs.count)
        var dynEnv = env
        if rec {
            let inner = Env(parent: env, slots: [])
            let slots = slotThunks(env, inner, ev, lazy: true)
            for j in sortedOrder { values.append(slots[j]) }
            inner.slots = slots
            dynEnv = inner
        } else {
            for e in sortedExprs { values.append(e.thunk(env, ev)) }
        }
        let set = AttrSet(keys: staticKeys, values: values, positions: staticPositions)
        if dynamic.isEmpty && !hasOverrides { return .attrs(set) }
        if rec, hasOverrides, let ov = set["__overrides"] {
            // `__overrides` (old Nix): its attributes replace the static ones, in the set
            // and in the recursive scope.
            if case .attrs(let o) = try ov.force(ev) {
                for (k, t) in zip(o.sortedNames, o.values) {
                    if let i = names.firstIndex(of: k), i < dynEnv.slots.count { dynEnv.slots[i] = t }
                    set.set(k, t)
                }
            }
        }
        if dynamic.isEmpty { return .attrs(set) }
        var extra: [(name: String, value: Thunk)] = []
        var extraPos: [Span?] = []
        for d in dynamic {
            let nv = try d.name.eval(dynEnv, ev)
            if case .null = nv { continue }
            let name = try ev.forceStringNoCtx(nv, d.name.span)
            if set[name] != nil || extra.contains(where: { $0.name == name }) {
                throw NixError(.duplicateAttribute, "dynamic attribute '\(name)' already defined", span: d.span)
            }
            extra.append((name, Thunk(d.value, dynEnv)))
            extraPos.append(d.span)
        }
        if extra.isEmpty { return .attrs(set) }
        let dyn = AttrSet(entries: extra, positions: extraPos)
        return .attrs(updateAttrs(set, dyn))
    }
}

final class LetExpr: Expr {
    let attrs: AttrsExpr
    let body: Expr
    init(_ a: AttrsExpr, _ b: Expr, span: Span) {
        attrs = a; body = b
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        let inner = Scope(parent: s, ordered: attrs.names)
        for n in attrs.names { if let l = attrs.defs[n]?.expr as? LambdaExpr, l.name == nil { l.name = n } }
        for n in attrs.names {
            guard let d = attrs.defs[n] else { continue }
            try d.expr.bind(d.inherited ? s : inner)
        }
        try body.bind(inner)
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        attrs.prepare()
        let inner = Env(parent: env, slots: [])
        inner.slots = attrs.slotThunks(env, inner, ev, lazy: false)
        return try ev.evalForce(body, inner)
    }
}

final class WithExpr: Expr {
    let attrs: Expr
    let body: Expr
    init(_ a: Expr, _ b: Expr, span: Span) {
        attrs = a; body = b
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        try attrs.bind(s)
        try body.bind(Scope(parent: s, isWith: true))
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let inner = Env(parent: env, with: attrs.thunk(env, ev))
        return try ev.evalForce(body, inner)
    }
}

struct Formal {
    let name: String
    let def: Expr?
    var span: Span? = nil
    let hash: UInt32

    init(name: String, def: Expr?, span: Span? = nil) {
        self.name = name
        self.def = def
        self.span = span
        self.hash = nameHash(name)
    }
}

final class LambdaExpr: Expr {
    let arg: String?
    let formals: [Formal]?
    let ellipsis: Bool
    let body: Expr
    var formalNames: Set<String> = []
    /// The attribute or `let` name the lambda is bound to, for traces.
    var name: String?
    init(arg: String?, formals: [Formal]?, ellipsis: Bool, body: Expr, span: Span) {
        self.arg = arg
        self.formals = formals
        self.ellipsis = ellipsis
        self.body = body
        if let f = formals { formalNames = Set(f.map { $0.name }) }
        curriedBody = formals == nil ? body as? LambdaExpr : nil
        super.init(span: span)
    }

    /// The body when this is `x: <lambda>` (no pattern): Evaluator.apply2 enters it directly.
    let curriedBody: LambdaExpr?

    var slotNames: [String] {
        var n = formals?.map { $0.name } ?? []
        if let a = arg { n.append(a) }
        return n
    }

    override func bind(_ s: Scope) throws {
        let inner = Scope(parent: s, ordered: slotNames)
        for f in formals ?? [] { try f.def?.bind(inner) }
        try body.bind(inner)
    }

    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        .lambda(Closure(self, env))
    }
}

final class CallExpr: Expr {
    let fn: Expr
    let args: [Expr]
    init(_ f: Expr, _ a: [Expr], span: Span) {
        fn = f; args = a
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        try fn.bind(s)
        for a in args { try a.bind(s) }
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        var f = try fn.eval(env, ev)
        if args.count == 1 { return try ev.apply(f, args[0].thunk(env, ev), span: span) }
        // `builtins.foo a b` with all of a builtin's arguments: one call, no partial applications.
        if case .primop(let p) = f, p.applied.isEmpty, p.arity == args.count {
            var ts: [Thunk] = []
            ts.reserveCapacity(args.count)
            for a in args { ts.append(a.thunk(env, ev)) }
            return try ev.callPrimop(p, ts, span: span)
        }
        var i = 0
        while i < args.count {
            if i + 1 < args.count {
                f = try ev.apply2(f, args[i].thunk(env, ev), args[i + 1].thunk(env, ev), span: span)
                i += 2
            } else {
                f = try ev.apply(f, args[i].thunk(env, ev), span: span)
                i += 1
            }
        }
        return f
    }
}

final class IfExpr: Expr {
    let cond: Expr, then: Expr, els: Expr
    init(_ c: Expr, _ t: Expr, _ e: Expr, span: Span) {
        cond = c; then = t; els = e
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws {
        try cond.bind(s); try then.bind(s); try els.bind(s)
    }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let c = try cond.eval(env, ev)
        guard case .bool(let b) = c else {
            throw typeError("value is \(c.typeDescription) while a Boolean was expected", cond.span)
        }
        return try (b ? then : els).eval(env, ev)
    }
}

final class AssertExpr: Expr {
    let cond: Expr, body: Expr
    var condText = ""
    init(_ c: Expr, _ b: Expr, span: Span) {
        cond = c; body = b
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { try cond.bind(s); try body.bind(s) }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let c = try cond.eval(env, ev)
        guard case .bool(let b) = c else {
            throw typeError("value is \(c.typeDescription) while a Boolean was expected", cond.span)
        }
        if !b {
            let text = condText
            throw NixError(.assertion, "assertion '\(text)' failed", span: span)
        }
        return try body.eval(env, ev)
    }
}

/// String interpolation / concatenation of several parts.
final class ConcatStringsExpr: Expr {
    let parts: [Expr]
    /// true for "…${}…" strings; false for path interpolation (result is a path).
    let isPath: Bool
    init(_ p: [Expr], isPath: Bool, span: Span) {
        parts = p
        self.isPath = isPath
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { for p in parts { try p.bind(s) } }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        var out = ""
        var ctx = Set<String>()
        for p in parts {
            let v = try p.eval(env, ev)
            let s = try ev.coerceToString(v, span: p.span, coerceMore: false, copyToStore: !isPath)
            out += s.value
            if !s.context.isEmpty { ctx.formUnion(s.context) }
        }
        if isPath { return .path(canonicalizePath(out)) }
        return .string(NixString(out, context: ctx))
    }
}

enum BinOp {
    case add, sub, mul, div, concat, update, eq, neq, lt, le, gt, ge, and, or, impl
}

final class BinExpr: Expr {
    let op: BinOp
    let lhs: Expr, rhs: Expr
    /// The right operand when it is an integer literal (`n - 1`, `i < 2`): no call to evaluate it.
    let rhsInt: Int64?
    /// The left operand when it is a variable (for `thunk`).
    let lhsVar: VarExpr?
    init(_ op: BinOp, _ l: Expr, _ r: Expr, span: Span) {
        self.op = op; lhs = l; rhs = r
        if let c = r as? ConstExpr, case .int(let i) = c.value { rhsInt = i } else { rhsInt = nil }
        lhsVar = l as? VarExpr
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { try lhs.bind(s); try rhs.bind(s) }

    /// `n - 1` as an argument, with `n` already an integer: the result is computed now. Integer
    /// `+ - *` and comparisons cannot fail or diverge, so no one can tell it was not lazy, and
    /// the thunk holds a value instead of the frame (no later force, no retained environment).
    override func thunk(_ env: Env, _ ev: Evaluator) -> Thunk {
        if let y = rhsInt, let v = lhsVar, v.level >= 0, let t = v.boundThunk(env),
           case .value(.int(let x)) = t.state, let r = BinExpr.total(op, x, y) {
            return Thunk(value: r)
        }
        return Thunk(self, env)
    }

    @inline(__always)
    static func total(_ op: BinOp, _ x: Int64, _ y: Int64) -> Value? {
        switch op {
        case .add: return .int(x &+ y)
        case .sub: return .int(x &- y)
        case .mul: return .int(x &* y)
        case .eq: return .bool(x == y)
        case .neq: return .bool(x != y)
        case .lt: return .bool(x < y)
        case .gt: return .bool(x > y)
        case .le: return .bool(x <= y)
        case .ge: return .bool(x >= y)
        default: return nil
        }
    }

    func bool(_ e: Expr, _ env: Env, _ ev: Evaluator) throws -> Bool {
        let v = try e.eval(env, ev)
        guard case .bool(let b) = v else {
            throw typeError("value is \(v.typeDescription) while a Boolean was expected", e.span)
        }
        return b
    }

    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        switch op {
        case .and: return .bool(try bool(lhs, env, ev) && bool(rhs, env, ev))
        case .or: return .bool(try bool(lhs, env, ev) || bool(rhs, env, ev))
        case .impl: return .bool(try !bool(lhs, env, ev) || bool(rhs, env, ev))
        default: break
        }
        let a = try lhs.eval(env, ev)
        if let y = rhsInt, case .int(let x) = a, let r = BinExpr.total(op, x, y) { return r }
        let b = try rhs.eval(env, ev)
        // Integer fast paths (the general functions below switch on a copied (a, b) tuple).
        if case .int(let x) = a, case .int(let y) = b {
            if let r = BinExpr.total(op, x, y) { return r }
            if op == .div, y != 0, !(y == -1 && x == .min) { return .int(x / y) }
        }
        switch op {
        case .add: return try ev.add(a, b, span: span)
        case .sub, .mul, .div: return try ev.arith(op, a, b, span: span)
        case .concat:
            guard case .list(let x) = a else { throw typeError("value is \(a.typeDescription) while a list was expected", lhs.span) }
            guard case .list(let y) = b else { throw typeError("value is \(b.typeDescription) while a list was expected", rhs.span) }
            return .list(x + y)
        case .update:
            guard case .attrs(let x) = a else { throw typeError("value is \(a.typeDescription) while a set was expected", lhs.span) }
            guard case .attrs(let y) = b else { throw typeError("value is \(b.typeDescription) while a set was expected", rhs.span) }
            return .attrs(updateAttrs(x, y))
        case .eq: return .bool(try ev.equal(a, b, span: span))
        case .neq: return .bool(try !ev.equal(a, b, span: span))
        case .lt: return .bool(try ev.less(a, b, span: span))
        case .gt: return .bool(try ev.less(b, a, span: span))
        case .le: return .bool(try !ev.less(b, a, span: span))
        case .ge: return .bool(try !ev.less(a, b, span: span))
        default: throw NixError(.other, "internal error: bad operator", span: span)
        }
    }
}

final class NotExpr: Expr {
    let e: Expr
    init(_ e: Expr, span: Span) {
        self.e = e
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { try e.bind(s) }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let v = try e.eval(env, ev)
        guard case .bool(let b) = v else {
            throw typeError("value is \(v.typeDescription) while a Boolean was expected", e.span)
        }
        return .bool(!b)
    }
}

final class NegExpr: Expr {
    let e: Expr
    init(_ e: Expr, span: Span) {
        self.e = e
        super.init(span: span)
    }
    override func bind(_ s: Scope) throws { try e.bind(s) }
    override func eval(_ env: Env, _ ev: Evaluator) throws -> Value {
        let v = try e.eval(env, ev)
        return try ev.arith(.sub, .int(0), v, span: span)
    }
}

/// Canonicalizes an absolute path: removes `.`, `..`, duplicate and trailing slashes.
func canonicalizePath(_ p: String) -> String {
    var out: [Substring] = []
    for comp in p.split(separator: "/", omittingEmptySubsequences: true) {
        if comp == "." { continue }
        if comp == ".." { if !out.isEmpty { out.removeLast() }; continue }
        out.append(comp)
    }
    return "/" + out.joined(separator: "/")
}
