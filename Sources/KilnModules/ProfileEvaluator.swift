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
            guard let plan = try ev.attr(try moduleResult(ev), "plan") else {
                throw ConfigError(message: "internal: the module system gives no plan")
            }
            let json = try ev.toJSON(plan)
            do {
                return try JSONDecoder().decode(SystemPlan.self, from: Data(json.utf8))
            } catch let DecodingError.keyNotFound(key, ctx) {
                throw ConfigError(message: "internal: the modules' plan lacks '\(Self.path(ctx.codingPath + [key]))'")
            } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx), let DecodingError.dataCorrupted(ctx) {
                throw ConfigError(message: "internal: the modules' plan has an unexpected value at '\(Self.path(ctx.codingPath))': \(ctx.debugDescription)")
            }
        }
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
    /// thrown, and how evaluation got there, is noise unless KILN_SHOW_TRACE is set.
    static func render(_ e: NixError) -> String {
        if ProcessInfo.processInfo.environment["KILN_SHOW_TRACE"].map({ !$0.isEmpty }) ?? false { return e.description }
        if e.kind == .parse { return NixError(e.kind, e.message, span: e.span).description }
        if e.kind == .thrown, let file = e.span?.file.name, file.hasPrefix(Embedded.modulesDirectory + "/") {
            return NixError(e.kind, e.message, span: nil).description
                + "\n(set KILN_SHOW_TRACE=1 to see where in the module system it was found)"
        }
        return e.description
    }

    /// The module system's result for this profile: `{ config; options; packageRequests; plan; }`,
    /// unevaluated beyond its outer set, so `kiln eval PROFILE -A config.x` forces only x.
    public func moduleResult(_ ev: Evaluator) throws -> Value {
        let dir = Embedded.modulesDirectory
        let lib = try ev.evalFile(dir + "/lib.nix")
        let evalModules = try ev.evalFile(dir + "/eval-modules.nix")
        let pkgs = Value.attrs(AttrSet([:], fallback: { name in
            Value.attrs(AttrSet([
                "_type": Thunk(value: .str("package")),
                "pname": Thunk(value: .str(name)),
                "name": Thunk(value: .str(name)),
            ]))
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

    /// Every declared option, as `lib.optionsDocList` lists them: name, type,
    /// default, description, declaring files. JSON text, for `kiln options`.
    public func optionsJSON() throws -> String {
        try withEvaluator { ev in
            let lib = try ev.evalFile(Embedded.modulesDirectory + "/lib.nix")
            guard let toDoc = try ev.attr(lib, "optionsDocList"),
                  let options = try ev.attr(try moduleResult(ev), "options") else {
                throw ConfigError(message: "internal: the module system gives no option list")
            }
            return try ev.toJSON(try ev.call(toDoc, options))
        }
    }
}
