import Foundation

/// What `nix-instantiate --eval` is asked to do: the parsed command line of `kiln eval`.
public struct InstantiateRequest: Sendable {
    /// How the result is printed.
    public enum Output: Sendable { case nix, json, xml }
    /// A `--arg NAME EXPR` (expression) or `--argstr NAME VALUE` (string) argument.
    public struct AutoArg: Sendable {
        public var name: String
        public var value: String
        public var isString: Bool
        public init(name: String, value: String, isString: Bool) {
            self.name = name
            self.value = value
            self.isString = isString
        }
    }

    /// Files (or, with `fromExpressions`, expressions) to evaluate; none means `./default.nix`.
    public var inputs: [String] = []
    /// `-E`: the inputs are expressions, not files.
    public var fromExpressions = false
    /// `--strict`: force the result deeply.
    public var strict = false
    public var output: Output = .nix
    /// `--xml` without `--no-location`: add source positions.
    public var location = true
    /// `-A`: attribute paths selected from each result (none means the whole value).
    public var attrPaths: [String] = []
    public var autoArgs: [AutoArg] = []
    /// `-I`: search path entries, before `NIX_PATH`.
    public var includes: [String] = []
    /// `--parse`: only parse (and bind) the inputs.
    public var parseOnly = false
    /// Where the value to select from comes from instead of `inputs`, when the caller
    /// evaluates it itself (Kiln's `kiln eval PROFILE -A config.x`: the module system's result).
    public var root: (@Sendable (Evaluator) throws -> Value)?
    /// The directory relative paths and `-E` expressions resolve against.
    public var workingDirectory = FileManager.default.currentDirectoryPath

    public init() {}
}

extension Evaluator {
    /// Runs a `nix-instantiate --eval` request, writing each result (with its newline) to `write`.
    public func instantiate(_ req: InstantiateRequest, write: (String) -> Void) throws {
        searchPath = req.includes + searchPath
        if copyPathToStore == nil {
            // As nix-instantiate in read-only mode: compute the store path without writing it.
            let io = self.io
            var cache: [String: String] = [:]
            copyPathToStore = { p in
                if let c = cache[p] { return c }
                let sp = try storePathForPath(p, io: io)
                cache[p] = sp
                return sp
            }
        }
        if req.parseOnly {
            for input in req.inputs.isEmpty ? ["./default.nix"] : req.inputs {
                if req.fromExpressions {
                    _ = try entry { try parse(input, fileName: "«string»", baseDir: req.workingDirectory) }
                } else {
                    try parseOnly(file: input)
                }
            }
            return
        }
        try entry {
            var autoArgs: [String: Thunk] = [:]
            for a in req.autoArgs {
                if a.isString {
                    autoArgs[a.name] = Thunk(value: .str(a.value))
                } else {
                    let src = a.value, dir = req.workingDirectory
                    autoArgs[a.name] = Thunk(lazy: { [unowned self] in
                        let e = try self.parse(src, fileName: "«string»", baseDir: dir)
                        return try self.evalForce(e, self.globalEnv)
                    })
                }
            }
            let inputs = req.inputs.isEmpty && !req.fromExpressions ? ["./default.nix"] : req.inputs
            for input in req.root == nil ? inputs : ["«root»"] {
                let root: Value
                if let provide = req.root {
                    root = try provide(self)
                } else if req.fromExpressions {
                    let e = try parse(input, fileName: "«string»", baseDir: req.workingDirectory)
                    root = try evalForce(e, globalEnv)
                } else if input.hasPrefix("<") && input.hasSuffix(">") && input.count > 2 {
                    let p = try findSearchPath(String(input.dropFirst().dropLast()), span: nil)
                    guard case .path(let path) = p else { continue }
                    root = try importFile(path, span: nil)
                } else {
                    let path = input.hasPrefix("/") ? canonicalizePath(input) : canonicalizePath(req.workingDirectory + "/" + input)
                    root = try importFile(path, span: nil)
                }
                for attrPath in req.attrPaths.isEmpty ? [""] : req.attrPaths {
                    var v = try findAlongAttrPath(root, attrPath, autoArgs)
                    if !autoArgs.isEmpty { v = try autoCallNix(v, autoArgs) }
                    var out = ""
                    switch req.output {
                    case .xml:
                        out = "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n"
                        try xmlValue(v, &out, indent: "  ", strict: req.strict, location: req.location)
                        out += "</expr>\n"
                    case .json:
                        var ctx = Set<String>()
                        try jsonValue(v, &out, &ctx, strict: req.strict)
                    case .nix:
                        var seen = Set<UInt>()
                        if req.strict { try deepSeq(v) }
                        try printValue(v, &out, &seen, strict: req.strict)
                    }
                    // nix-instantiate 2.8 ends a JSON result without a newline, and XML with the document's own.
                    write(req.output == .nix ? out + "\n" : out)
                }
            }
        }
    }

    /// `autoCallFunction` of Nix: calls a function with formals using the automatic arguments.
    func autoCallNix(_ v: Value, _ args: [String: Thunk]) throws -> Value {
        if case .attrs(let a) = v, let ft = a["__functor"] {
            let f = try apply(try ft.force(self), Thunk(value: v), span: nil)
            return try autoCallNix(f, args)
        }
        guard case .lambda(let c) = v, let formals = c.lambda.formals else { return v }
        var d: [String: Thunk] = [:]
        if c.lambda.ellipsis {
            d = args
        } else {
            for f in formals {
                if let t = args[f.name] {
                    d[f.name] = t
                } else if f.def == nil {
                    throw NixError(.missingArgument, """
                        cannot evaluate a function that has an argument without a value ('\(f.name)')

                               Nix attempted to evaluate a function as a top level expression; in
                               this case it must have its arguments supplied either by default
                               values, or passed explicitly with '--arg' or '--argstr'. See
                               https://nixos.org/manual/nix/stable/#ss-functions.
                        """, span: f.span ?? c.lambda.span)
                }
            }
        }
        return try apply(v, Thunk(value: .attrs(AttrSet(d))), span: nil)
    }

    /// `findAlongAttrPath` of Nix: `a.b."c.d".0` selects attributes and list elements, auto-calling functions on the way.
    func findAlongAttrPath(_ root: Value, _ attrPath: String, _ args: [String: Thunk]) throws -> Value {
        var v = root
        for token in splitAttrPath(attrPath) {
            v = try autoCallNix(v, args)
            if let i = Int(token), i >= 0 {
                guard case .list(let l) = v else {
                    throw typeError("the expression selected by the selection path '\(attrPath)' should be a list but is \(v.typeDescription)")
                }
                guard i < l.count else {
                    throw NixError(.missingAttribute, "list index \(i) in selection path '\(attrPath)' is out of range")
                }
                v = try l[i].force(self)
            } else {
                guard case .attrs(let a) = v else {
                    throw typeError("the expression selected by the selection path '\(attrPath)' should be a set but is \(v.typeDescription)")
                }
                guard let t = try a.lookup(token) else {
                    throw NixError(.missingAttribute, "attribute '\(token)' in selection path '\(attrPath)' not found")
                }
                v = try t.force(self)
            }
        }
        return v
    }
}

/// Splits `a.b."c.d"` into `["a", "b", "c.d"]` as Nix's `parseAttrPath` does.
func splitAttrPath(_ s: String) -> [String] {
    var out: [String] = []
    var cur = ""
    var quoted = false
    for c in s {
        if c == "\"" {
            quoted.toggle()
        } else if c == "." && !quoted {
            out.append(cur)
            cur = ""
        } else {
            cur.append(c)
        }
    }
    if !cur.isEmpty || !out.isEmpty { out.append(cur) }
    return out
}
