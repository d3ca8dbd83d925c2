import Foundation
import ArgumentParser
import NixLang
import KilnModules

/// `kiln eval`: evaluates Nix files or expressions and prints the result exactly as
/// `nix-instantiate --eval` does. It takes nix-instantiate's flags, so that
/// `kiln eval --strict FILE` can replace `nix-instantiate --eval --strict FILE`.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a Nix expression or file, like nix-instantiate --eval.",
        discussion: """
            Also accepts nix-instantiate's --arg NAME EXPR, --argstr NAME VALUE, --eval, \
            --read-write-mode and --store URI (the last three are ignored).
            """)

    /// Evaluate deeply (force every list element and attribute).
    @Flag(help: "Evaluate deeply, forcing every list element and attribute.") var strict = false
    /// Print the result as JSON.
    @Flag(help: "Print the result as JSON.") var json = false
    /// Print the result as XML (like builtins.toXML).
    @Flag(help: "Print the result as XML.") var xml = false
    /// Leave source positions out of the XML output.
    @Flag(help: "Leave source positions out of --xml output.") var noLocation = false
    /// Parse only, do not evaluate.
    @Flag(help: "Only parse the files (exit status 0 if they parse).") var parse = false
    /// Print the evaluation stack with errors.
    @Flag(help: "Show the evaluation stack of errors.") var showTrace = false
    /// The arguments are expressions, not files.
    @Flag(name: [.customShort("E"), .customLong("expr")], help: "Treat the arguments as Nix expressions.") var expr = false
    /// Attribute paths to select from the result.
    @Option(name: [.customShort("A"), .customLong("attr")], help: "Select an attribute path (e.g. a.b.0).") var attrPaths: [String] = []
    /// Search path entries, before NIX_PATH.
    @Option(name: [.customShort("I"), .customLong("include")], help: "Add a search path entry (PATH or PREFIX=PATH).") var includes: [String] = []
    /// The machine description when the file is a profile (`-A config.…` / `-A options.…`).
    @Option(help: "With a profile and -A config.PATH or options.PATH: the machine (a shipped description's name or a .nix file).")
    var hardware: String?
    /// Files or expressions, and the nix-instantiate options argument-parser cannot express (--arg NAME EXPR).
    @Argument(parsing: .allUnrecognized, help: "Files (default ./default.nix), or expressions with -E.") var words: [String] = []

    /// The request, built from the arguments; validate() fills it.
    private func request() throws -> InstantiateRequest {
        var req = InstantiateRequest()
        req.fromExpressions = expr
        req.strict = strict
        req.output = xml ? .xml : json ? .json : .nix
        req.location = !noLocation
        req.attrPaths = attrPaths
        req.includes = includes
        req.parseOnly = parse
        var i = 0
        while i < words.count {
            let w = words[i]
            switch w {
            case "--arg", "--argstr":
                guard i + 2 < words.count else { throw ValidationError("'\(w)' requires two arguments") }
                req.autoArgs.append(.init(name: words[i + 1], value: words[i + 2], isString: w == "--argstr"))
                i += 2
            case "--store":
                i += 1
            case "--eval", "--read-write-mode", "--readonly-mode", "--":
                break
            default:
                if w.hasPrefix("-") && w.count > 1 && !expr {
                    throw ValidationError("unrecognised flag '\(w)'")
                }
                req.inputs.append(w)
            }
            i += 1
        }
        if let profile = profileFile(req) {
            let evaluator = ProfileEvaluator(profile: profile, hardware: try Hardware(hardware))
            req.root = { ev in try evaluator.moduleResult(ev) }
        }
        return req
    }

    /// A profile is a module, not a value to print: when every -A path starts at `config`
    /// or `options`, the one input file is evaluated by the module system (with the hardware
    /// and Kiln's modules), as `nix-instantiate '<nixpkgs/nixos>' -A config.x` does for NixOS.
    private func profileFile(_ req: InstantiateRequest) -> String? {
        guard !req.fromExpressions, req.inputs.count == 1, !req.attrPaths.isEmpty,
              req.attrPaths.allSatisfy({ $0 == "config" || $0 == "options" || $0.hasPrefix("config.") || $0.hasPrefix("options.") })
        else { return nil }
        return req.inputs[0]
    }

    func validate() throws {
        _ = try request()
    }

    func run() throws {
        let req = try request()
        let showTrace = showTrace
        let code: Int32 = (try? runWithLargeStack { () -> Int32 in
            let ev = Evaluator(io: KilnEvalIO())
            do {
                try ev.instantiate(req) { text in FileHandle.standardOutput.write(Data(text.utf8)) }
                // The output is written (FileHandle writes are unbuffered). Ending here leaves
                // the evaluator's heap to the OS instead of releasing it object by object.
                Foundation.exit(0)
            } catch let e as NixError {
                FileHandle.standardError.write(Data((e.render(showTrace: showTrace) + "\n").utf8))
                return 1
            } catch {
                FileHandle.standardError.write(Data(("error: \(error)\n").utf8))
                return 1
            }
        }) ?? 1
        if code != 0 { throw ExitCode(code) }
    }
}
