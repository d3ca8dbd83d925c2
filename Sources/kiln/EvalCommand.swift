import Foundation
import ArgumentParser
import NixLang

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a Nix expression or file, like nix-instantiate --eval.")

    @Flag(help: "Evaluate deeply.") var strict = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Parse only.") var parse = false
    @Option(name: [.customShort("E"), .customLong("expr")], help: "Evaluate this expression.") var expr: String?
    @Argument(help: "A .nix file.") var file: String?

    func run() throws {
        let ev = Evaluator()
        if parse {
            guard let file else { throw ValidationError("--parse needs a file") }
            try ev.parseOnly(file: file)
            return
        }
        let v: Value
        if let expr {
            v = try ev.evalString(expr, baseDirectory: FileManager.default.currentDirectoryPath)
        } else if let file {
            v = try ev.evalFile(file)
        } else {
            throw ValidationError("give a FILE or -E EXPR")
        }
        if json {
            print(try ev.toJSON(v))
        } else {
            if strict { try ev.deepForce(v) }
            print(try ev.printValue(v))
        }
    }
}
