import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - I/O

/// The evaluator's access to the outside world (files, environment).
public protocol EvalIO: Sendable {
    func readFile(_ path: String) throws -> String
    func readBytes(_ path: String) throws -> [UInt8]
    func fileKind(_ path: String) -> FileKind?
    func listDirectory(_ path: String) throws -> [String]
    func pathExists(_ path: String) -> Bool
    func isDirectory(_ path: String) -> Bool
    func getEnv(_ name: String) -> String?
}

/// Real file system and process environment.
public struct RealEvalIO: EvalIO {
    public init() {}

    /// The file's text; an error names the system's reason (missing, unreadable, a directory)
    /// or the first byte that is not UTF-8 (see `decodeUTF8`).
    public func readFile(_ path: String) throws -> String {
        try decodeUTF8(readHostFile(path), file: path)
    }

    public func readBytes(_ path: String) throws -> [UInt8] { try readHostFile(path) }

    public func listDirectory(_ path: String) throws -> [String] { try listHostDirectory(path) }

    public func pathExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    public func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    /// libc's getenv: ProcessInfo.environment builds a dictionary of the whole environment on
    /// every call, and every parse asks for HOME (~12M instructions for the module system).
    public func getEnv(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// An in-memory file system for tests and pure evaluation.
public struct MemoryEvalIO: EvalIO {
    public var files: [String: String]
    public var env: [String: String]

    public init(files: [String: String] = [:], env: [String: String] = [:]) {
        self.files = files
        self.env = env
    }

    public func readFile(_ path: String) throws -> String {
        guard let f = files[path] else {
            throw NixError.system(isDirectory(path) ? "reading file" : "opening file", path, isDirectory(path) ? EISDIR : ENOENT)
        }
        return f
    }

    public func pathExists(_ path: String) -> Bool { files[path] != nil || isDirectory(path) }

    public func isDirectory(_ path: String) -> Bool {
        let p = path.hasSuffix("/") ? path : path + "/"
        return files.keys.contains { $0.hasPrefix(p) }
    }

    public func getEnv(_ name: String) -> String? { env[name] }
}

// MARK: - Big stack

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// The work of a thread started by runWithLargeStack (not generic: a C start routine cannot be).
private final class ThreadEntry {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body` on a new thread with a large stack (default 512 MiB) and returns its result.
/// The thread is joined: everything it made or captured is released on it before this
/// returns. (NixLang counts references without atomics, so no object may ever be retained or
/// released on two threads at once; a thread that signalled its result and only then dropped
/// its captures could overlap the caller's next steps.)
public func runWithLargeStack<T>(stackSize: Int = 512 << 20, _ body: @escaping () throws -> T) throws -> T {
    let box = ResultBox<T>()
    let arg = Unmanaged.passRetained(ThreadEntry { box.result = Result { try body() } }).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, stackSize)
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attr, { p in
        guard let p = p else { return nil }
        Unmanaged<ThreadEntry>.fromOpaque(p).takeRetainedValue().run()
        return nil
    }, arg)
    guard rc == 0 else {
        Unmanaged<ThreadEntry>.fromOpaque(arg).release()
        throw NixError(.other, "cannot start the evaluation thread (pthread_create: \(rc))")
    }
    pthread_join(thread, nil)
    guard let r = box.result else { throw NixError(.other, "evaluation thread produced no result") }
    return try r.get()
}

/// An address in the caller's stack frame (inlined: a slot of the caller's own frame is as
/// good a measure of the stack depth, and saves a call per evaluation step).
@inline(__always)
func currentStackAddress() -> UInt {
    var x: UInt8 = 0
    return withUnsafeMutablePointer(to: &x) { UInt(bitPattern: $0) }
}

func currentStackLowBound() -> (low: UInt, size: Int)? {
    #if canImport(Glibc)
    typealias GetAttr = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_getattr_np") else { return nil }
    let getattr = unsafeBitCast(sym, to: GetAttr.self)
    var attr = pthread_attr_t()
    guard getattr(pthread_self(), &attr) == 0 else { return nil }
    defer { pthread_attr_destroy(&attr) }
    var addr: UnsafeMutableRawPointer? = nil
    var size: Int = 0
    guard pthread_attr_getstack(&attr, &addr, &size) == 0, let a = addr else { return nil }
    return (UInt(bitPattern: a), size)
    #else
    return nil
    #endif
}

// MARK: - Evaluator

/// A lazy Nix evaluator. One per evaluation; not to be shared between threads.
public final class Evaluator: @unchecked Sendable {
    public let io: EvalIO
    /// Extra search path entries (`-I`), each `prefix=path` or `path`.
    public var searchPath: [String] = []
    /// Called to turn a path into a store path when it is interpolated into a string
    /// (Nix copies it to the store). Default: the path itself.
    public var copyPathToStore: ((String) throws -> String)?
    /// Maximum evaluation depth when the stack size is unknown.
    public var maxDepth = 10_000
    /// `builtins.currentSystem`.
    public var currentSystem = "x86_64-linux"
    /// Messages from `builtins.trace` go here (default: stderr).
    public var traceHandler: (String) -> Void = { msg in
        FileHandle.standardError.write(("trace: " + msg + "\n").data(using: .utf8) ?? Data())
    }

    var depth = 0
    var stackLimit: UInt = 0
    var steps: UInt32 = 0
    /// If set, evaluation fails with a timeout error once this moment has passed (checked now and then).
    public var deadline: Date?
    var fileCache: [String: Thunk] = [:]
    /// Compiled patterns of builtins.match/split (see `regex`).
    var regexCache: [String: Regex] = [:]
    var globalScope: Scope
    var globalEnv: Env
    var builtinsSet = AttrSet()
    /// hashDerivationModulo of each derivation created so far, by drv path.
    var drvHashes: [String: [UInt8]] = [:]
    var drvOutputs: [String: Set<String>] = [:]
    /// The ATerm text of each derivation created so far, by drv path (for writing .drv files).
    public internal(set) var derivations: [String: String] = [:]

    public init(io: EvalIO = RealEvalIO()) {
        self.io = io
        globalScope = Scope(parent: nil)
        globalEnv = Env(parent: nil, slots: [])
        setupBuiltins()
    }

    /// Registers an extra builtin (available as `builtins.name`, and globally if `global`).
    public func addBuiltin(_ name: String, _ value: Value, global: Bool = false) {
        builtinsSet.set(name, Thunk(value: value))
        if global { addGlobal(name, Thunk(value: value)) }
        addGlobal("__" + name, Thunk(value: value))
    }

    func addGlobal(_ name: String, _ t: Thunk) {
        if let i = globalScope.slot(of: name, hash: nameHash(name)) {
            globalEnv.slots[i] = t
        } else {
            globalScope.append(name)
            globalEnv.slots.append(t)
        }
    }

    // MARK: Depth / stack

    @inline(__always)
    func enter() throws {
        depth &+= 1
        if depth > maxDepth || currentStackAddress() < stackLimit {
            depth &-= 1
            throw NixError(.stackOverflow, "stack overflow (possible infinite recursion)")
        }
        steps &+= 1
        if steps & 0x3FFF == 0, let d = deadline, Date() > d {
            depth &-= 1
            throw NixError(.other, "evaluation timed out")
        }
    }

    @inline(__always)
    func leave() { depth &-= 1 }

    /// Wraps a public entry point: sets up the stack limit for the current thread.
    func entry<T>(_ body: () throws -> T) throws -> T {
        if depth == 0 {
            if let (low, size) = currentStackLowBound() {
                let margin = UInt(min(1 << 20, max(64 << 10, size / 8)))
                stackLimit = low &+ margin
                maxDepth = Int.max
            } else {
                stackLimit = 0
            }
        }
        return try body()
    }

    @inline(__always)
    func evalForce(_ e: Expr, _ env: Env) throws -> Value {
        try enter()
        defer { leave() }
        return try e.eval(env, self)
    }

    // MARK: Public API

    /// Parses and evaluates a file (to weak head normal form).
    public func evalFile(_ path: String) throws -> Value {
        try entry { try importFile(absolutePath(path), span: nil) }
    }

    /// Parses and evaluates a string; relative paths resolve against `baseDirectory`.
    public func evalString(_ source: String, fileName: String = "«string»", baseDirectory: String) throws -> Value {
        try entry {
            let e = try parse(source, fileName: fileName, baseDir: baseDirectory)
            return try evalForce(e, globalEnv)
        }
    }

    /// Forces a value to weak head normal form (values are always WHNF; kept for symmetry).
    public func force(_ v: Value) throws -> Value { v }

    /// Forces a thunk.
    public func force(_ t: Thunk) throws -> Value {
        try entry { try t.force(self) }
    }

    /// Calls a function value with one argument.
    public func call(_ function: Value, _ argument: Value) throws -> Value {
        try entry { try apply(function, Thunk(value: argument), span: nil) }
    }

    /// Calls a function value with a lazy argument.
    public func call(_ function: Value, _ argument: Thunk) throws -> Value {
        try entry { try apply(function, argument, span: nil) }
    }

    /// The forced value of attribute `name` of a set, or nil if absent (or not a set).
    public func attr(_ v: Value, _ name: String) throws -> Value? {
        try entry {
            guard case .attrs(let a) = v, let t = try a.lookup(name) else { return nil }
            do {
                return try t.force(self)
            } catch let e as NixError {
                throw e.withContext("while evaluating the attribute '\(name)'")
            }
        }
    }

    /// Forces a value completely (like `--strict`).
    public func deepForce(_ v: Value) throws {
        try entry { try deepSeq(v) }
    }

    /// Renders a value like `builtins.toJSON`.
    public func toJSON(_ v: Value) throws -> String {
        try entry {
            var out = ""
            var ctx = Set<String>()
            try jsonValue(v, &out, &ctx)
            return out
        }
    }

    /// Renders a value like `builtins.toJSON`, adding the string context of everything in it
    /// to `context` (what a string names in the store: Kiln gathers its objects from it).
    public func toJSON(_ v: Value, context: inout Set<String>) throws -> String {
        var ctx = context
        let out = try entry {
            var out = ""
            try jsonValue(v, &out, &ctx)
            return out
        }
        context = ctx
        return out
    }

    /// A value as a string with its context, as string interpolation coerces it (paths are
    /// copied to the store through `copyPathToStore` when `copyToStore`).
    public func coerceToString(_ v: Value, copyToStore: Bool = true) throws -> NixString {
        try coerceToString(v, span: nil, coerceMore: false, copyToStore: copyToStore)
    }

    /// Renders a value exactly as `nix-instantiate --eval --strict` prints it.
    public func printValue(_ v: Value) throws -> String {
        try entry {
            var out = ""
            var seen = Set<UInt>()
            try printValue(v, &out, &seen, strict: true)
            return out
        }
    }

    /// Renders a value without forcing thunks (like `nix-instantiate --eval` without `--strict`).
    public func printValueLazy(_ v: Value) throws -> String {
        try entry {
            var out = ""
            var seen = Set<UInt>()
            try printValue(v, &out, &seen, strict: false)
            return out
        }
    }

    /// Calls a function whose arguments all have defaults (as `nix-instantiate` does); other values are returned unchanged.
    public func autoCall(_ v: Value, args: [String: Thunk] = [:]) throws -> Value {
        guard case .lambda(let c) = v, let formals = c.lambda.formals else { return v }
        var d: [String: Thunk] = [:]
        if c.lambda.ellipsis {
            d = args
        } else {
            for f in formals { if let t = args[f.name] { d[f.name] = t } }
        }
        return try call(v, .attrs(AttrSet(d)))
    }

    /// Renders a value like `builtins.toXML`.
    public func toXML(_ v: Value) throws -> String {
        try entry {
            var out = "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n"
            try xmlValue(v, &out, indent: "  ")
            out += "</expr>\n"
            return out
        }
    }

    /// Parses (and binds variables in) a file without evaluating it.
    public func parseOnly(file: String) throws {
        try entry {
            let p = absolutePath(file)
            let src = try io.readFile(p)
            _ = try parse(src, fileName: p, baseDir: dirOf(p))
        }
    }

    // MARK: Parsing and import

    func absolutePath(_ p: String) -> String {
        if p.hasPrefix("/") { return canonicalizePath(p) }
        return canonicalizePath(FileManager.default.currentDirectoryPath + "/" + p)
    }

    func parse(_ source: String, fileName: String, baseDir: String) throws -> Expr {
        let file = SourceFile(name: fileName, text: source)
        var parser = try Parser(file: file, baseDir: baseDir, home: io.getEnv("HOME"))
        parser.stackLimit = stackLimit
        let e = try parser.parseFile()
        try e.bind(globalScope)
        return e
    }

    func importFile(_ path: String, span: Span?) throws -> Value {
        var p = path
        let isDirectory = io.isDirectory(p)
        if isDirectory { p = canonicalizePath(p + "/default.nix") }
        if let t = fileCache[p] { return try t.force(self) }
        let t = Thunk(lazy: { [unowned self] in
            let src: String
            do {
                src = try p.hasPrefix(corepkgsPrefix) ? corepkgSource(p) : self.io.readFile(p)
            } catch var e as NixError {
                // "opening file '/d/default.nix'" would not say that the user named a directory.
                if isDirectory && e.errnoCode == ENOENT {
                    e = NixError(.importError, "cannot import '\(path)': it is a directory, and it has no default.nix")
                }
                throw e.at(span)
            }
            let e = try self.parse(src, fileName: p, baseDir: dirOf(p))
            return try self.evalForce(e, self.globalEnv)
        })
        fileCache[p] = t
        return try t.force(self)
    }

    /// The search path: `-I` entries, then `NIX_PATH`, each split into prefix and path.
    var searchPathEntries: [(prefix: String, path: String)] {
        var entries = searchPath
        if let np = io.getEnv("NIX_PATH") {
            entries += np.split(separator: ":").map(String.init)
        }
        return entries.map { e in
            guard let eq = e.firstIndex(of: "=") else { return ("", e) }
            return (String(e[..<eq]), String(e[e.index(after: eq)...]))
        }
    }

    /// `findFile` of Nix 2.8: `nix/…` names the built-in corepkgs, then the entries are tried in order.
    func findSearchPath(_ name: String, entries: [(prefix: String, path: String)], span: Span?) throws -> Value {
        if name.hasPrefix("nix/") { return .path(corepkgsPrefix + name.dropFirst(4)) }
        for (prefix, path) in entries {
            var candidate: String?
            if prefix.isEmpty {
                candidate = path + "/" + name
            } else if name == prefix {
                candidate = path
            } else if name.hasPrefix(prefix + "/") {
                candidate = path + String(name.dropFirst(prefix.count))
            }
            if let c = candidate {
                let abs = absolutePath(c)
                if io.pathExists(abs) { return .path(abs) }
            }
        }
        throw NixError(.thrown, "file '\(name)' was not found in the Nix search path (add it using $NIX_PATH or -I)", span: span)
    }

    func findSearchPath(_ name: String, span: Span?) throws -> Value {
        try findSearchPath(name, entries: searchPathEntries, span: span)
    }

    // MARK: Application

    func apply(_ f: Value, _ arg: Thunk, span: Span?) throws -> Value {
        switch f {
        case .lambda(let c):
            return try call(c.lambda, c.env, arg, span: span)
        case .primop(let p):
            if p.applied.count + 1 >= p.arity {
                try enter()
                defer { leave() }
                do {
                    return try p.body(self, appendedArgs(p.applied, arg, p.arity))
                } catch let e as NixError {
                    throw e.at(span)
                }
            }
            return .primop(PrimOp(copy: p, applied: appendedArgs(p.applied, arg, p.arity)))
        case .attrs(let a):
            if let ft = try a.lookup("__functor") {
                let fn = try ft.force(self)
                let f2 = try apply(fn, Thunk(value: f), span: span)
                return try apply(f2, arg, span: span)
            }
            fallthrough
        default:
            throw typeError("attempt to call something which is not a function but \(f.typeDescription)", span)
        }
    }

    /// Runs a builtin with all its arguments (as `apply` does for the last one).
    func callPrimop(_ p: PrimOp, _ args: [Thunk], span: Span?) throws -> Value {
        try enter()
        defer { leave() }
        do {
            return try p.body(self, args)
        } catch let e as NixError {
            throw e.at(span)
        }
    }

    /// `applied + [arg]` in one allocation (sized for the primop's full arity).
    @inline(__always)
    func appendedArgs(_ applied: [Thunk], _ arg: Thunk, _ arity: Int) -> [Thunk] {
        if applied.isEmpty { return [arg] }
        var r = [Thunk]()
        r.reserveCapacity(arity)
        for t in applied { r.append(t) }
        r.append(arg)
        return r
    }

    /// The body of `lam`, closed over `closure`, with `arg`; errors get the lambda's frames.
    @inline(__always)
    func call(_ lam: LambdaExpr, _ closure: Env, _ arg: Thunk, span: Span?) throws -> Value {
        try enter()
        defer { leave() }
        do {
            return try applyLambda(lam, closure, arg, span: span)
        } catch var e as NixError {
            e.addFrame(lam.name.map { "while evaluating '\($0)'" } ?? "while evaluating anonymous lambda", lam.span)
            if let s = span { e.addFrame("from call site", s) }
            throw e
        }
    }

    /// `f x y`. For `f = x: y: body` the inner function is entered directly: applying the
    /// outer lambda only makes the frame of `x` and returns the inner closure, which would
    /// be called at once and dropped (lib's curried functions, foldl' and mapAttrs bodies).
    @inline(__always)
    func apply2(_ f: Value, _ x: Thunk, _ y: Thunk, span: Span?) throws -> Value {
        if case .lambda(let c) = f, let inner = c.lambda.curriedBody {
            try enter()
            leave()
            return try call(inner, Env(parent: c.env, one: x), y, span: span)
        }
        return try apply(try apply(f, x, span: span), y, span: span)
    }

    @inline(__always)
    func applyLambda(_ lam: LambdaExpr, _ closure: Env, _ arg: Thunk, span: Span?) throws -> Value {
        guard let formals = lam.formals else {
            let env = Env(parent: closure, one: arg)
            return try lam.body.eval(env, self)
        }
        let av = try arg.force(self)
        guard case .attrs(let a) = av else {
            throw typeError("value is \(av.typeDescription) while a set was expected", span ?? lam.span)
        }
        let env = Env(parent: closure, slots: [])
        var slots: [Thunk] = []
        slots.reserveCapacity(formals.count + 1)
        // Formals found among the explicit names; if that is all of them, no argument is unexpected.
        var matched = 0
        for fm in formals {
            if let t = a[fm.name, fm.hash] {
                slots.append(t)
                matched &+= 1
            } else if let t = try a.lookup(fm.name, fm.hash) {
                slots.append(t)
            } else if let d = fm.def {
                slots.append(Thunk(d, env))
            } else {
                throw NixError(.missingArgument, "\(lambdaName(lam)) called without required argument '\(fm.name)'", span: span ?? lam.span)
            }
        }
        if !lam.ellipsis && matched != a.count {
            for k in a.sortedNames where !lam.formalNames.contains(k) {
                throw NixError(.unexpectedArgument, "\(lambdaName(lam)) called with unexpected argument '\(k)'", span: span ?? lam.span)
            }
        }
        if lam.arg != nil { slots.append(arg) }
        env.slots = slots
        return try lam.body.eval(env, self)
    }

    /// `f x y`, without a partial application when `f` is a two-argument builtin.
    @inline(__always)
    func call2(_ f: Value, _ x: Thunk, _ y: Thunk) throws -> Value {
        if case .primop(let p) = f, p.applied.isEmpty, p.arity == 2 {
            try enter()
            defer { leave() }
            return try p.body(self, [x, y])
        }
        return try apply2(f, x, y, span: nil)
    }

    func lambdaName(_ l: LambdaExpr) -> String {
        if let n = l.name { return "function '\(n)'" }
        return "anonymous function at \(l.span.file.name):\(l.span.line):\(l.span.column)"
    }

    func callValue(_ f: Value, _ args: [Value], span: Span? = nil) throws -> Value {
        var r = f
        for a in args { r = try apply(r, Thunk(value: a), span: span) }
        return r
    }

    // MARK: Coercions

    func attrName(_ n: AttrName, _ env: Env) throws -> String {
        switch n {
        case .name(let s): return s
        case .dynamic(let e):
            let v = try e.eval(env, self)
            return try forceStringNoCtx(v, e.span)
        }
    }

    func forceStringNoCtx(_ v: Value, _ span: Span?) throws -> String {
        guard case .string(let s) = v else {
            throw typeError("value is \(v.typeDescription) while a string was expected", span)
        }
        return s.value
    }

    func coerceToString(_ v: Value, span: Span?, coerceMore: Bool, copyToStore: Bool) throws -> NixString {
        switch v {
        case .string(let s): return s
        case .path(let p):
            if copyToStore {
                if let c = copyPathToStore {
                    let sp = try c(p)
                    return NixString(sp, context: [sp])
                }
                if !io.pathExists(p) {
                    throw NixError(.io, "getting status of '\(p)': No such file or directory", span: span)
                }
            }
            return NixString(p)
        case .attrs(let a):
            if let ts = try a.lookup("__toString") {
                let f = try ts.force(self)
                let r = try apply(f, Thunk(value: v), span: span)
                return try coerceToString(r, span: span, coerceMore: coerceMore, copyToStore: copyToStore)
            }
            if let op = try a.lookup("outPath") {
                return try coerceToString(try op.force(self), span: span, coerceMore: coerceMore, copyToStore: copyToStore)
            }
            throw typeError("cannot coerce a set to a string", span)
        default:
            break
        }
        if coerceMore {
            switch v {
            case .bool(let b): return NixString(b ? "1" : "")
            case .int(let i): return NixString(String(i))
            case .float(let f): return NixString(String(format: "%f", f))
            case .null: return NixString("")
            case .list(let l):
                var out = ""
                var ctx = Set<String>()
                for (n, t) in l.enumerated() {
                    let ev = try t.force(self)
                    let s = try coerceToString(ev, span: span, coerceMore: true, copyToStore: copyToStore)
                    out += s.value
                    ctx.formUnion(s.context)
                    if n < l.count - 1 {
                        if case .list(let inner) = ev, inner.isEmpty { continue }
                        out += " "
                    }
                }
                return NixString(out, context: ctx)
            default: break
            }
        }
        throw typeError("cannot coerce \(v.typeDescription) to a string", span)
    }

    // MARK: Arithmetic

    func add(_ a: Value, _ b: Value, span: Span?) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(x &+ y)
        case (.int(let x), .float(let y)): return .float(Double(x) + y)
        case (.float(let x), .int(let y)): return .float(x + Double(y))
        case (.float(let x), .float(let y)): return .float(x + y)
        case (.int, _): throw typeError("cannot add \(b.typeDescription) to an integer", span)
        case (.float, _): throw typeError("cannot add \(b.typeDescription) to a float", span)
        case (.path(let p), _):
            let s = try coerceToString(b, span: span, coerceMore: false, copyToStore: false)
            if !s.context.isEmpty {
                throw NixError(.typeError, "a string that refers to a store path cannot be appended to a path", span: span)
            }
            return .path(canonicalizePath(p + s.value))
        default:
            let x = try coerceToString(a, span: span, coerceMore: false, copyToStore: true)
            let y = try coerceToString(b, span: span, coerceMore: false, copyToStore: true)
            var ctx = x.context
            if !y.context.isEmpty { ctx.formUnion(y.context) }
            return .string(NixString(x.value + y.value, context: ctx))
        }
    }

    func arith(_ op: BinOp, _ a: Value, _ b: Value, span: Span?) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch op {
            case .sub: return .int(x &- y)
            case .mul: return .int(x &* y)
            default:
                if y == 0 { throw NixError(.divisionByZero, "division by zero", span: span) }
                let (q, o) = x.dividedReportingOverflow(by: y)
                if o { throw NixError(.overflow, "integer overflow in division", span: span) }
                return .int(q)
            }
        case (.int, .float), (.float, .int), (.float, .float):
            let x = a.floatValue ?? Double(a.intValue ?? 0)
            let y = b.floatValue ?? Double(b.intValue ?? 0)
            switch op {
            case .sub: return .float(x - y)
            case .mul: return .float(x * y)
            default:
                if y == 0 { throw NixError(.divisionByZero, "division by zero", span: span) }
                return .float(x / y)
            }
        default:
            let bad: Value
            if case .int = a { bad = b } else if case .float = a { bad = b } else { bad = a }
            throw typeError("value is \(bad.typeDescription) while an integer was expected", span)
        }
    }

    // MARK: Comparison

    func equal(_ a: Value, _ b: Value, span: Span?) throws -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.int(let x), .float(let y)): return Double(x) == y
        case (.float(let x), .int(let y)): return x == Double(y)
        case (.float(let x), .float(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.string(let x), .string(let y)): return x.value == y.value
        case (.path(let x), .path(let y)): return x == y
        case (.list(let x), .list(let y)):
            if x.count != y.count { return false }
            try enter()
            defer { leave() }
            for (p, q) in zip(x, y) {
                if p === q { continue }
                if try !equal(p.force(self), q.force(self), span: span) { return false }
            }
            return true
        case (.attrs(let x), .attrs(let y)):
            if x === y { return true }
            try enter()
            defer { leave() }
            if try isDerivation(x), try isDerivation(y), let o1 = x["outPath"], let o2 = y["outPath"] {
                return try equal(o1.force(self), o2.force(self), span: span)
            }
            if x.count != y.count { return false }
            if x.keys !== y.keys && x.sortedNames != y.sortedNames { return false }
            for (t1, t2) in zip(x.values, y.values) {
                if t1 === t2 { continue }
                if try !equal(t1.force(self), t2.force(self), span: span) { return false }
            }
            return true
        default:
            return false
        }
    }

    func isDerivation(_ a: AttrSet) throws -> Bool {
        guard let t = a["type"] else { return false }
        if case .string(let s) = try t.force(self) { return s.value == "derivation" }
        return false
    }

    func less(_ a: Value, _ b: Value, span: Span?) throws -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.int(let x), .float(let y)): return Double(x) < y
        case (.float(let x), .int(let y)): return x < Double(y)
        case (.float(let x), .float(let y)): return x < y
        case (.string(let x), .string(let y)): return nixLess(x.value, y.value)
        case (.path(let x), .path(let y)): return nixLess(x, y)
        case (.list(let x), .list(let y)):
            try enter()
            defer { leave() }
            var i = 0
            while true {
                if i == y.count { return false }
                if i == x.count { return true }
                let p = try x[i].force(self), q = try y[i].force(self)
                if try !equal(p, q, span: span) { return try less(p, q, span: span) }
                i += 1
            }
        default:
            if a.typeName != b.typeName {
                throw typeError("cannot compare \(a.typeDescription) with \(b.typeDescription)", span)
            }
            throw typeError("cannot compare \(a.typeDescription) with \(b.typeDescription); values of that type are incomparable", span)
        }
    }

    // MARK: Deep forcing and printing

    func deepSeq(_ v: Value) throws {
        var seen = Set<ObjectIdentifier>()
        try deepSeq(v, &seen)
    }

    private func deepSeq(_ v: Value, _ seen: inout Set<ObjectIdentifier>) throws {
        switch v {
        case .list(let l):
            try enter()
            defer { leave() }
            for t in l { try deepSeq(try t.force(self), &seen) }
        case .attrs(let a):
            if !seen.insert(ObjectIdentifier(a)).inserted { return }
            try enter()
            defer { leave() }
            for (i, t) in a.values.enumerated() {
                do {
                    try deepSeq(try t.force(self), &seen)
                } catch let e as NixError {
                    throw e.withContext("while evaluating the attribute '\(a.sortedNames[i])'", span: a.position(at: i))
                }
            }
        default: break
        }
    }

    func printValue(_ v: Value, _ out: inout String, _ seen: inout Set<UInt>, strict: Bool) throws {
        switch v {
        case .int(let i): out += String(i)
        case .float(let f): out += formatFloat(f)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .string(let s): out += quoteString(s.value)
        case .path(let p): out += p
        case .lambda: out += "<LAMBDA>"
        case .primop(let p): out += p.applied.isEmpty ? "<PRIMOP>" : "<PRIMOP-APP>"
        case .list(let l):
            // Like Nix, a list (identified by its shared storage) printed twice is «repeated».
            if !l.isEmpty && !seen.insert(listIdentity(l)).inserted {
                out += "«repeated»"
                return
            }
            try enter()
            defer { leave() }
            out += "[ "
            for t in l {
                if strict {
                    try printValue(try t.force(self), &out, &seen, strict: strict)
                } else if let v = t.evaluatedValue {
                    try printValue(v, &out, &seen, strict: strict)
                } else {
                    out += "<CODE>"
                }
                out += " "
            }
            out += "]"
        case .attrs(let a):
            if !a.isEmpty && !seen.insert(UInt(bitPattern: Unmanaged.passUnretained(a).toOpaque())).inserted {
                out += "«repeated»"
                return
            }
            try enter()
            defer { leave() }
            out += "{ "
            for (i, (k, t)) in zip(a.sortedNames, a.values).enumerated() {
                out += printAttrName(k)
                out += " = "
                if strict {
                    do {
                        try printValue(try t.force(self), &out, &seen, strict: strict)
                    } catch let e as NixError {
                        throw e.withContext("while evaluating the attribute '\(k)'", span: a.position(at: i))
                    }
                } else if let v = t.evaluatedValue {
                    try printValue(v, &out, &seen, strict: strict)
                } else {
                    out += "<CODE>"
                }
                out += "; "
            }
            out += "}"
        }
    }

    func printAttrName(_ k: String) -> String {
        guard let f = k.utf8.first, Lexer.isIdStart(f), k.utf8.allSatisfy(Lexer.isIdChar) else { return quoteString(k) }
        switch k {
        case "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or": return quoteString(k)
        default: return k
        }
    }
}

// MARK: - Formatting helpers

/// Formats a float like C++ `ostream << double` (6 significant digits, %g).
func formatFloat(_ f: Double) -> String {
    if f.isNaN { return f.sign == .minus ? "-nan" : "nan" }
    if f.isInfinite { return f < 0 ? "-inf" : "inf" }
    return String(format: "%g", f)
}

/// Quotes a string as Nix prints it.
func quoteString(_ s: String) -> String {
    // Most strings need no escape: one copy, no walk over the bytes.
    let plain = s.utf8.allSatisfy { b in
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "$"), 0x0A, 0x0D, 0x09: return false
        default: return true
        }
    }
    if plain { return "\"" + s + "\"" }
    var out: [UInt8] = [UInt8(ascii: "\"")]
    out.reserveCapacity(s.utf8.count + 16)
    var prev: UInt8 = 0
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), b]
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
        case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case UInt8(ascii: "{") where prev == UInt8(ascii: "$"):
            out.removeLast()
            out += [UInt8(ascii: "\\"), UInt8(ascii: "$"), b]
        default: out.append(b)
        }
        prev = b
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}

func dirOf(_ p: String) -> String {
    guard let i = p.lastIndex(of: "/") else { return "." }
    if i == p.startIndex { return "/" }
    return String(p[..<i])
}

func baseNameOf(_ p: String) -> String {
    var s = Substring(p)
    if s.hasSuffix("/") { s = s.dropLast() }
    guard let i = s.lastIndex(of: "/") else { return String(s) }
    return String(s[s.index(after: i)...])
}

/// The identity of a list's storage (shared by copies of the same list value).
func listIdentity(_ l: [Thunk]) -> UInt {
    l.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
}
