import Foundation
import KilnModules
import KilnSupport
import NixLang

/// The parts of a test file the driver needs: its name, node names (in order), script and
/// (optionally) the machine its nodes are built for.
public struct TestFile: Sendable {
    public var path: String
    public var name: String
    public var nodes: [String]
    /// The script when the file gives it as a string; a function of `{ nodes, ... }` is
    /// called once the nodes are evaluated (`renderScript`), and this is empty until then.
    public var testScript: String
    public var scriptIsFunction = false
    /// The line of the `testScript` attribute in the file, where the script's text is looked for.
    public var scriptAttributeLine: Int?
    /// The test's `hardware`: a shipped description's name or a file's path.
    public var hardware: String?
    /// Units that may have failed when the script ends (`allowedFailedUnits`; "*": any).
    public var allowedFailedUnits: [String] = []

    /// What a test file is, for messages about one that is not.
    static let shape = "a test file is { name = \"…\"; nodes.<machine> = <module>; testScript = '' … ''; } (see kiln test --help)"

    /// Reads a test file. It is evaluated through the evaluator's own API rather than a Nix
    /// wrapper expression, so its errors point into the file alone (no wrapper in the trace),
    /// and a file of the wrong shape (a profile, a directory, a number) is named and described
    /// here instead of failing inside such a wrapper.
    /// - Throws: `KilnError` naming the file and what is wrong with its shape, or
    ///   `ConfigError` with the evaluator's message for an error inside the file.
    public static func load(_ path: String) throws -> TestFile {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw KilnError("test file '\(path)' is a directory, not a .nix file", hint: shape)
        }
        let fields: Fields
        do {
            fields = try runWithLargeStack { try evaluate(path) }
        } catch let e as NixError {
            throw ConfigError(message: e.description)
        }
        for n in fields.nodes where n.range(of: "^[A-Za-z_][A-Za-z0-9_-]*$", options: .regularExpression) == nil || n.contains("-") {
            throw KilnError("the node name '\(n)' in \(path) is not usable as a host and script name", hint: "use letters, digits and _")
        }
        var name = fields.name ?? ""
        if name.isEmpty { name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
        name = name.replacingOccurrences(of: "[^A-Za-z0-9._-]", with: "-", options: .regularExpression)
        return TestFile(path: path, name: name, nodes: fields.nodes, testScript: fields.testScript,
                        scriptIsFunction: fields.scriptIsFunction, scriptAttributeLine: fields.scriptLine, hardware: fields.hardware,
                        allowedFailedUnits: fields.allowedFailedUnits)
    }

    /// A test file's fields as evaluated, before the names are checked.
    private struct Fields: Sendable {
        var name: String?
        var nodes: [String]
        var testScript: String
        var scriptIsFunction: Bool
        var scriptLine: Int?
        var hardware: String?
        var allowedFailedUnits: [String]
    }

    private static func evaluate(_ path: String) throws -> Fields {
        let ev = Evaluator(io: KilnEvalIO())
        let test = try evaluateTest(ev, path)
        // NixOS's older single-machine form: `machine = { … };` is nodes.machine.
        var nodes = try ev.attr(test, "nodes")
        let single = nodes == nil ? try ev.attr(test, "machine") : nil
        let script = try ev.attr(test, "testScript")
        if nodes == nil && single == nil && script == nil {
            throw KilnError("test file '\(path)' has no nodes and no testScript: it looks like a profile (kiln build builds those), not a test",
                            hint: shape)
        }
        guard let script else { throw KilnError("test file '\(path)' has no testScript", hint: shape) }
        var testScript = ""
        if !script.isFunction {
            guard let s = script.stringValue else {
                throw KilnError("the testScript of test file '\(path)' is \(describe(script)), not a string or a function of { nodes, ... }",
                                hint: shape)
            }
            testScript = s
        }
        if single != nil { nodes = .attrs(AttrSet(["machine": Thunk(value: .attrs(AttrSet()))])) }
        var nodeNames: [String] = []
        if let nodes {
            guard let set = nodes.attrsValue else {
                throw KilnError("the nodes of test file '\(path)' are \(describe(nodes)), not an attribute set of machines (nodes.<machine> = <module>)",
                                hint: shape)
            }
            nodeNames = set.sortedNames
        }
        var name: String?
        if let v = try ev.attr(test, "name") {
            guard let s = v.stringValue else { throw KilnError("the name of test file '\(path)' is \(describe(v)), not a string") }
            name = s
        }
        var hardware: String?
        if let v = try ev.attr(test, "hardware") {
            // As `toString`: a path stays a path on this host (the machine description's file).
            guard let s = v.stringValue ?? v.pathValue else {
                throw KilnError("the hardware of test file '\(path)' is \(describe(v)), not a machine description's name or a .nix file")
            }
            hardware = s
        }
        var allowed: [String] = []
        if let v = try ev.attr(test, "allowedFailedUnits") {
            guard let list = v.listValue else {
                throw KilnError("the allowedFailedUnits of test file '\(path)' is \(describe(v)), not a list of unit names")
            }
            for t in list {
                let unit = try ev.force(t)
                guard let s = unit.stringValue else {
                    throw KilnError("allowedFailedUnits of test file '\(path)' holds \(describe(unit)), not a unit name")
                }
                allowed.append(s)
            }
        }
        let getPos = try ev.evalString("builtins.unsafeGetAttrPos \"testScript\"", fileName: "«kiln»", baseDirectory: "/")
        let line = try ev.attr(try ev.call(getPos, test), "line")?.intValue.map { Int($0) }
        return Fields(name: name, nodes: nodeNames, testScript: testScript, scriptIsFunction: script.isFunction, scriptLine: line,
                      hardware: hardware, allowedFailedUnits: allowed)
    }

    /// The test file's attribute set: the file, called with `lib` and `pkgs` when it is a
    /// function as nixpkgs' tests are.
    private static func evaluateTest(_ ev: Evaluator, _ path: String) throws -> Value {
        var test = try ev.evalFile(path)
        if test.isFunction {
            // A test may be a function of { lib, pkgs, ... }, as nixpkgs' tests are. pkgs is
            // empty here: only the nodes, built as profiles, see packages. A function of
            // `config` is a module, the usual mistake being a profile given instead of a test.
            let required = try requiredArguments(ev, test)
            if required.contains("config") {
                throw KilnError("test file '\(path)' is a module (a function of config), not a test; kiln build builds profiles",
                                hint: shape)
            }
            let unknown = required.subtracting(["lib", "pkgs"])
            if !unknown.isEmpty {
                throw KilnError("test file '\(path)' is a function taking \(unknown.sorted().joined(separator: ", ")), but kiln test gives a test only lib and pkgs",
                                hint: shape)
            }
            let lib = Thunk(lazy: { try ev.evalFile(Embedded.modulesDirectory + "/lib.nix") })
            test = try ev.call(test, .attrs(AttrSet(["lib": lib, "pkgs": Thunk(value: .attrs(AttrSet()))])))
        }
        guard test.attrsValue != nil else {
            throw KilnError("test file '\(path)' evaluates to \(describe(test)), not an attribute set", hint: shape)
        }
        return test
    }

    /// The script of a test whose `testScript` is a function of `{ nodes, ... }`, as NixOS
    /// calls it: `nodes.<name>.config` (and `.options`) is that node's evaluated configuration.
    /// - Parameter nodeProfiles: each node's generated profile (`nodeProfile`).
    public func renderScript(nodeProfiles: [String: String], hardware: Hardware) throws -> String {
        if !scriptIsFunction { return testScript }
        let path = self.path
        return try ProfileEvaluator(profile: nil, hardware: hardware).withEvaluator { ev in
            let test = try Self.evaluateTest(ev, path)
            guard let function = try ev.attr(test, "testScript") else { throw KilnError("test file '\(path)' has no testScript") }
            var nodes: [String: Thunk] = [:]
            for (name, profile) in nodeProfiles {
                nodes[name] = Thunk(lazy: {
                    try ProfileEvaluator(profile: profile, hardware: hardware).moduleResult(ev)
                })
            }
            let script = try ev.call(function, .attrs(AttrSet(["nodes": Thunk(value: .attrs(AttrSet(nodes)))])))
            guard let text = script.stringValue else {
                throw KilnError("the testScript function of test file '\(path)' returns \(Self.describe(script)), not a string")
            }
            return text
        }
    }

    /// The line of the file where `script` (the testScript's text) starts, found by its first
    /// lines that have text: an indented string keeps its lines, so the script's line N is the
    /// file's line (start + N - 1). 0 when it cannot be found (a script built by functions).
    public func scriptFirstLine(_ script: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        let fileLines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let scriptLines = script.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let from = max(0, (scriptAttributeLine ?? 1) - 1)
        // Lines with `${…}` differ in the file; look for the first few that do not.
        let anchors = scriptLines.indices.filter { !scriptLines[$0].isEmpty }.prefix(6)
        guard from < fileLines.count else { return 0 }
        for start in from..<fileLines.count {
            let matches = anchors.filter { i in start + i < fileLines.count && fileLines[start + i] == scriptLines[i] }
            // The first line that has text, and at least half of the others.
            if let first = anchors.first, matches.first == first, matches.count * 2 >= anchors.count { return start + 1 }
        }
        return 0
    }

    /// The arguments a function requires (its formals without a default), as
    /// `builtins.functionArgs` gives them.
    private static func requiredArguments(_ ev: Evaluator, _ function: Value) throws -> Set<String> {
        let functionArgs = try ev.evalString("builtins.functionArgs", fileName: "«kiln»", baseDirectory: "/")
        guard let formals = try ev.call(functionArgs, function).attrsValue else { return [] }
        var required = Set<String>()
        for name in formals.sortedNames where try formals[name].map({ try ev.force($0) })?.boolValue == false {
            required.insert(name)
        }
        return required
    }

    /// A value's type in words, for messages.
    static func describe(_ v: Value) -> String {
        switch v.typeName {
        case "int": return "an integer"
        case "float": return "a float"
        case "bool": return "a Boolean"
        case "null": return "null"
        case "string": return "a string"
        case "path": return "a path"
        case "list": return "a list"
        case "set": return "an attribute set"
        default: return "a function"
        }
    }

    /// The profile of one node: the node's module from the test file plus Kiln's test module
    /// (the backdoor, the LAN address, /etc/hosts naming every node).
    func nodeProfile(_ node: String, address: String, hosts: String) -> String {
        """
        # Generated by `kiln test` for node '\(node)' of \(path).
        { pkgs, lib, ... }:
        let
          test = import \(Self.nixPath(path));
          t = if builtins.isFunction test then test { inherit pkgs lib; } else test;
          nodes = t.nodes or { machine = t.machine; };
        in
        {
          # `defaults`, as in NixOS tests: a module every node imports.
          imports = [ nodes.\(Self.nixString(node)) (t.defaults or { }) \(Self.nixPath(Embedded.modulesDirectory + "/testing.nix")) ];
          networking.hostName = lib.mkOverride 900 \(Self.nixString(node));  # over base.nix's mkDefault
          kiln.testing.address = "\(address)";
          kiln.testing.hosts = \(Self.nixString(hosts));
        }

        """
    }

    /// A Nix path expression for an absolute path, whatever characters it holds.
    static func nixPath(_ p: String) -> String { "(/. + \(nixString(p)))" }

    static func nixString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "${", with: "\\${").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
