import XCTest
import Foundation
import NixLang

/// Property test: the parser and evaluator never trap, whatever the input. Inputs are random
/// bytes, random token soups and mutated corpus files; every run is bounded in time (about 15 s
/// in all) and each evaluation gets a deadline. Errors are fine; a crash fails the whole suite.
final class FuzzTests: XCTestCase {
    static let tokens = [
        "let ", "in ", "rec ", "{ ", "} ", "[ ", "] ", "( ", ") ", "= ", "; ", ": ", "@", "...", ", ", "?", " or ",
        "if ", "then ", "else ", "assert ", "with ", "inherit ", "x ", "y ", "f ", "a.b ", "\"s\" ", "\"${", "}\"",
        "''", "''\n  i ${x}\n''", "1 ", "2.5 ", "-", "+ ", "* ", "/ ", "// ", "++ ", "== ", "!= ", "< ", "<= ", "-> ",
        "&& ", "|| ", "! ", "./p ", "<nixpkgs> ", "~/h ", "http://u ", "builtins.map ", "builtins.foldl' ",
        "builtins.genList ", "builtins.toJSON ", "builtins.fromJSON ", "builtins.fromTOML ", "builtins.match ",
        "builtins.split ", "builtins.substring ", "builtins.seq ", "builtins.deepSeq ", "builtins.tryEval ",
        "throw ", "abort ", "import ", "__functor ", "__toString ", "x: ", "{ a, b ? 1, ... }: ", "#c\n", "/* c */",
        "${", "$", "\\", "\n", "\t", "builtins.derivation ", "builtins.toXML ", "builtins.hashString \"md5\" ",
    ]

    var corpusDir: String? {
        let env = ProcessInfo.processInfo.environment["NIXLANG_CORPUS"]
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for c in [env, here.appendingPathComponent("../../../shared/nix-lang-tests/lang").standardizedFileURL.path,
                  "/work/shared/nix-lang-tests/lang"].compactMap({ $0 })
            where FileManager.default.fileExists(atPath: c) {
            return c
        }
        return nil
    }

    /// Parses and evaluates (deeply, and printed) one input; any error is acceptable.
    func exercise(_ src: String, baseDirectory: String, io: EvalIO) {
        _ = try? runWithLargeStack(stackSize: 64 << 20) { () -> String in
            let ev = Evaluator(io: io)
            ev.deadline = Date().addingTimeInterval(0.25)
            ev.traceHandler = { _ in }
            let v = try ev.evalString(src, fileName: "/fuzz/input.nix", baseDirectory: baseDirectory)
            try ev.deepForce(v)
            _ = try? ev.toJSON(v)
            _ = try? ev.toXML(v)
            return try ev.printValue(v)
        }
    }

    func testFuzzParserAndEvaluator() throws {
        let seed = ProcessInfo.processInfo.environment["NIXLANG_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64(Date().timeIntervalSince1970 * 1000)
        print("fuzz test: seed \(seed) (replay with NIXLANG_FUZZ_SEED=\(seed))")
        var rng = SplitMix64(seed: seed)
        let memIO = MemoryEvalIO(files: ["/fuzz/p/default.nix": "{ x = 1; }"], env: ["HOME": "/home"])
        var runs = 0

        // 1. Random bytes and token soups (about 5 s).
        let phase1 = Date().addingTimeInterval(5)
        while Date() < phase1 {
            var bytes: [UInt8] = []
            if rng.chance(30) {
                for _ in 0..<rng.int(64) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            } else {
                for _ in 0..<rng.range(1, 40) { bytes += Array(rng.pick(FuzzTests.tokens).utf8) }
            }
            exercise(String(decoding: bytes, as: UTF8.self), baseDirectory: "/fuzz", io: memIO)
            runs += 1
        }

        // 2. Mutated corpus files (about 10 s), evaluated against the real corpus directory.
        if let dir = corpusDir {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasSuffix(".nix") }.sorted()
            let sources = files.compactMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
            let phase2 = Date().addingTimeInterval(10)
            while Date() < phase2, !sources.isEmpty {
                var b = Array(rng.pick(sources).utf8)
                for _ in 0..<rng.range(1, 4) where !b.isEmpty {
                    let i = rng.int(b.count)
                    switch rng.int(5) {
                    case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: b.remove(at: i)
                    case 2: b.insert(contentsOf: Array(rng.pick(FuzzTests.tokens).utf8), at: i)
                    case 3:
                        let j = min(b.count, i + rng.range(1, 40))
                        b.insert(contentsOf: Array(b[i..<j]), at: rng.int(b.count))
                    default:
                        let j = min(b.count, i + rng.range(1, 20))
                        b.removeSubrange(i..<j)
                    }
                }
                exercise(String(decoding: b, as: UTF8.self), baseDirectory: dir, io: RealEvalIO())
                runs += 1
            }
        }
        print("fuzz test: \(runs) inputs without a trap")
        XCTAssertGreaterThan(runs, 100)
    }

    /// `--show-trace` output lists the evaluation stack, innermost first.
    func testShowTraceRendersTheStack() throws {
        let src = "let f = x: x.a + 1;\n    s = { b = f { a = \"x\"; }; };\nin s\n"
        do {
            _ = try runWithLargeStack { () -> String in
                let ev = Evaluator(io: MemoryEvalIO())
                var req = InstantiateRequest()
                req.fromExpressions = true
                req.strict = true
                req.inputs = [src]
                try ev.instantiate(req) { _ in }
                return ""
            }
            XCTFail("expected an error")
        } catch let e as NixError {
            let full = e.render(showTrace: true)
            XCTAssertTrue(full.hasPrefix("error: cannot coerce an integer to a string"), full)
            XCTAssertTrue(full.contains("… while evaluating 'f'"), full)
            XCTAssertTrue(full.contains("… from call site"), full)
            XCTAssertTrue(full.contains("… while evaluating the attribute 'b'"), full)
            let short = e.render(showTrace: false)
            XCTAssertFalse(short.contains("…"), short)
            XCTAssertTrue(short.hasSuffix("(use '--show-trace' to show detailed location information)"), short)
        }
    }
}
