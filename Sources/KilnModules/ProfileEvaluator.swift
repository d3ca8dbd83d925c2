import Foundation
import NixLang
import KilnPlan
import KilnSupport

/// Evaluation failed: a Nix error (with its file:line:column) or a configuration problem
/// naming the option.
public struct ConfigError: UserFacingError {
    public var message: String
    public var userMessage: String { message }
    public init(message: String) { self.message = message }
}

/// Evaluates a profile together with a machine description and Kiln's shipped modules, and
/// decodes the result into a `SystemPlan`.
public struct ProfileEvaluator: Sendable {
    /// The profile's absolute path; nil evaluates the shipped modules and the machine alone.
    public let profile: String?
    public let hardware: Hardware

    public init(profile: String?, hardware: Hardware = .default) {
        self.profile = profile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.hardware = hardware
    }

    /// The plan of this profile on this machine.
    public func plan() throws -> SystemPlan {
        try withEvaluator { ev in
            let written = WrittenObjects(io: KilnEvalIO())
            guard let plan = try Self.field(ev, try moduleResult(ev, written: written), "plan") else {
                throw ConfigError(message: "internal: the module system gives no plan")
            }
            let json = try ev.toJSON(plan)
            do {
                var decoded = try JSONDecoder().decode(SystemPlan.self, from: Data(json.utf8))
                try Self.addWritten(ev, written, plan, to: &decoded)
                return decoded
            } catch let DecodingError.keyNotFound(key, ctx) {
                throw ConfigError(message: "internal: the modules' plan lacks '\(Self.path(ctx.codingPath + [key]))'")
            } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx), let DecodingError.dataCorrupted(ctx) {
                throw ConfigError(message: "internal: the modules' plan has an unexpected value at '\(Self.path(ctx.codingPath))': \(ctx.debugDescription)")
            }
        }
    }

    /// The written objects and Debian packages the plan's strings name (their context), its
    /// variants' apart: each generation gets what its own configuration names.
    private static func addWritten(_ ev: Evaluator, _ written: WrittenObjects, _ value: Value, to plan: inout SystemPlan) throws {
        guard case .attrs(let a) = value else { return }
        var context = Set<String>()
        for name in a.sortedNames where name != "specialisations" {
            if let t = a[name] { _ = try ev.toJSON(try ev.force(t), context: &context) }
        }
        let (objects, packages) = written.gather(context)
        plan.writtenObjects = objects.isEmpty ? nil : objects
        let wanted = Set(plan.packages.map(\.name))
        for p in packages where !wanted.contains(p) {
            plan.packages.append(PackageWant(name: p, option: "\"${pkgs.\(p)}\"", file: "a string of the configuration"))
        }
        if let t = a["specialisations"], case .attrs(let variants) = try ev.force(t) {
            for name in variants.sortedNames {
                guard let v = variants[name], var variant = plan.specialisations[name] else { continue }
                try addWritten(ev, written, try ev.force(v), to: &variant)
                plan.specialisations[name] = variant
            }
        }
    }

    /// Attribute `name` of the module system's result, forced without the trace note
    /// `Evaluator.attr` adds: "while evaluating the attribute 'plan'" would end every error
    /// with a name from Kiln's insides.
    private static func field(_ ev: Evaluator, _ v: Value, _ name: String) throws -> Value? {
        guard case .attrs(let a) = v, let t = a[name] else { return nil }
        return try ev.force(t)
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
    }

    /// Runs `body` on a fresh evaluator (which sees the embedded files) with a large stack,
    /// turning Nix errors into configuration errors.
    public func withEvaluator<T>(_ body: @escaping (Evaluator) throws -> T) throws -> T {
        if let profile, !FileManager.default.fileExists(atPath: profile) {
            throw ConfigError(message: "file '\(profile)' does not exist")
        }
        return try runWithLargeStack {
            let ev = Evaluator(io: KilnEvalIO())
            do {
                return try body(ev)
            } catch let e as NixError {
                throw ConfigError(message: Self.render(e))
            }
        }
    }

    /// A Nix error as the user should read it. A syntax error is about the file alone; the
    /// module system's own errors (unknown option, type error, conflict, failed assertion)
    /// already name the option, the files and the values, so where in Kiln's lib they were
    /// thrown, and how evaluation got there, is noise unless KILN_SHOW_TRACE is set. Any
    /// other error is shown with the user's own part of its trace (`userTrace`).
    static func render(_ e: NixError, showTrace: Bool = ProcessInfo.processInfo.environment["KILN_SHOW_TRACE"].map({ !$0.isEmpty }) ?? false) -> String {
        if showTrace { return e.description }
        if e.kind == .parse { return NixError(e.kind, e.message, span: e.span).description }
        if e.kind == .thrown, let s = e.span, isShipped(s) {
            return NixError(e.kind, e.message, span: nil).description
                + "\n(set KILN_SHOW_TRACE=1 to see where in the module system it was found)"
        }
        return userTrace(e)
    }

    /// Whether a position is in the files Kiln carries (its lib and modules) rather than the user's.
    static func isShipped(_ s: Span) -> Bool { s.file.name.hasPrefix(Embedded.root + "/") }

    /// The error with only what a user can act on: its message, the places in the user's
    /// files (a trace through the module system runs to hundreds of lines, nearly all in
    /// Kiln's lib), and the notes up to the option being evaluated ("while evaluating
    /// definitions from `p.nix'", "while evaluating the option `x'"); the notes beyond it say
    /// how Kiln came to need that option. One last line says how to see the whole trace.
    static func userTrace(_ e: NixError) -> String {
        var kept = e
        kept.trace = []
        kept.omittedFrames = 0
        var left = e.omittedFrames > 0
        var reachedOption = false
        for f in e.trace {
            if let s = f.span {
                if isShipped(s) { left = true } else { kept.trace.append(f) }
            } else if !reachedOption {
                kept.trace.append(f)
                reachedOption = f.message.hasPrefix("while evaluating the option ")
            } else {
                left = true
            }
        }
        if let s = e.span, isShipped(s) {
            kept.span = nil
            left = true
        }
        return kept.render(showTrace: true) + (left ? "\n\n(set KILN_SHOW_TRACE=1 to see the full trace)" : "")
    }

    /// The module system's result for this profile: `{ config; options; packageRequests; plan; }`,
    /// unevaluated beyond its outer set, so `kiln eval PROFILE -A config.x` forces only x.
    public func moduleResult(_ ev: Evaluator) throws -> Value {
        try moduleResult(ev, written: WrittenObjects(io: KilnEvalIO()))
    }

    func moduleResult(_ ev: Evaluator, written: WrittenObjects) throws -> Value {
        let dir = Embedded.modulesDirectory
        // A path used in a string becomes a store object of the generation, as in Nix.
        ev.copyPathToStore = written.copyPath
        let lib = try ev.evalFile(dir + "/lib.nix")
        let evalModules = try ev.evalFile(dir + "/eval-modules.nix")
        // pkgs.NAME is Debian's package NAME, or the one nixpkgs-names.nix says a nixpkgs
        // name means; pkgs.python3Packages.X is python3-X and so on for the package sets.
        guard case .attrs(let nixpkgsNames) = try ev.evalFile(dir + "/nixpkgs-names.nix") else {
            throw ConfigError(message: "\(dir)/nixpkgs-names.nix must be an attribute set")
        }
        // A package in a string ("${pkgs.hello}/bin/hello") is where its files are on the
        // running system, and the string's context adds it to the system.
        func package(_ debian: String) -> Value {
            Value.attrs(AttrSet([
                "_type": Thunk(value: .str("package")),
                "pname": Thunk(value: .str(debian)),
                "name": Thunk(value: .str(debian)),
                "outPath": Thunk(value: .string(NixString(WrittenObjects.packagesPath, context: [WrittenObjects.packagePrefix + debian]))),
            ]))
        }
        func packageSet(_ debianName: @escaping @Sendable (String) -> String) -> Value {
            Value.attrs(AttrSet([:], fallback: { name in package(debianName(name)) }))
        }
        let sets: [String: Value] = [
            "python3Packages": packageSet { "python3-" + $0.lowercased().replacingOccurrences(of: "_", with: "-") },
            "perlPackages": packageSet { "lib" + $0.lowercased().replacingOccurrences(of: "::", with: "-") + "-perl" },
            "nodePackages": packageSet { "node-" + $0.lowercased() },
            "phpExtensions": packageSet(ProfileEvaluator.phpExtension),
        ]
        let builders = Thunk(lazy: {
            try ev.call(try ev.evalFile(dir + "/pkgs/trivial-builders.nix"), .attrs(AttrSet([
                "lib": Thunk(value: lib), "writeObject": Thunk(value: written.primop()),
                "refuse": Thunk(value: .native(name: "refuse") { ev, message in
                    throw NixError(.other, try ev.coerceToString(try ev.force(message)).value)
                }),
            ])))
        })
        let pkgs = Value.attrs(AttrSet([:], fallback: { name in
            if name == "lib" { return lib }
            if case .attrs(let b) = try ev.force(builders), let t = b[name] { return try ev.force(t) }
            if let set = sets[name] { return set }
            if let mapped = nixpkgsNames[name], let debian = try ev.force(mapped).stringValue { return package(debian) }
            return package(name)
        }))
        let specialArgs = Value.attrs(AttrSet([
            "pkgs": Thunk(value: pkgs),
            "modulesPath": Thunk(value: .path(dir)),
        ]))
        // The shipped option modules (module-list.nix), then the machine, then the user's profile.
        guard case .list(let shipped) = try ev.evalFile(dir + "/module-list.nix") else {
            throw ConfigError(message: "\(dir)/module-list.nix must be a list of module paths")
        }
        let modules = Value.list(shipped + ([hardware.nixPath] + (profile.map { [$0] } ?? [])).map { Thunk(value: .path($0)) })
        return try ev.call(evalModules, .attrs(AttrSet([
            "lib": Thunk(value: lib),
            "modules": Thunk(value: modules),
            "specialArgs": Thunk(value: specialArgs),
        ])))
    }

    /// Debian's package of the PHP extension nixpkgs calls NAME (pkgs.phpExtensions.NAME): one
    /// package holds each database's drivers (php-mysql has mysqli, mysqlnd and pdo_mysql).
    static func phpExtension(_ name: String) -> String {
        let lower = name.lowercased()
        let grouped = ["pdo_mysql": "mysql", "mysqli": "mysql", "mysqlnd": "mysql",
                       "pdo_pgsql": "pgsql", "pdo_sqlite": "sqlite3", "pdo_odbc": "odbc"]
        return "php-" + (grouped[lower] ?? lower.replacingOccurrences(of: "_", with: "-"))
    }

    /// nixpkgs-names.nix as a table: nixpkgs attribute name → the Debian package it means
    /// (for "did you mean" hints on an unknown package).
    public static func nixpkgsNames() throws -> [String: String] {
        try ProfileEvaluator(profile: nil).withEvaluator { ev in
            guard case .attrs(let names) = try ev.evalFile(Embedded.modulesDirectory + "/nixpkgs-names.nix") else { return [:] }
            var table: [String: String] = [:]
            for name in names.sortedNames {
                if let debian = try names[name].map({ try ev.force($0) })?.stringValue { table[name] = debian }
            }
            return table
        }
    }

    /// Every declared option, as `lib.optionsDocList` lists them: name, type,
    /// default, description, declaring files. JSON text, for `kiln options`.
    public func optionsJSON() throws -> String {
        try withEvaluator { ev in
            let lib = try ev.evalFile(Embedded.modulesDirectory + "/lib.nix")
            guard let toDoc = try ev.attr(lib, "optionsDocList"),
                  let options = try Self.field(ev, try moduleResult(ev), "options") else {
                throw ConfigError(message: "internal: the module system gives no option list")
            }
            return try ev.toJSON(try ev.call(toDoc, options))
        }
    }
}
