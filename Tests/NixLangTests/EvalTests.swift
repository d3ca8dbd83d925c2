import XCTest
import NixLang

final class EvalTests: XCTestCase {
    func eval(_ src: String, io: EvalIO = MemoryEvalIO()) throws -> String {
        try runWithLargeStack {
            let ev = Evaluator(io: io)
            let v = try ev.evalString(src, baseDirectory: "/base")
            return try ev.printValue(v)
        }
    }

    func evalError(_ src: String, file: StaticString = #filePath, line: UInt = #line) -> NixError? {
        do {
            let out = try eval(src)
            XCTFail("expected an error, got \(out)", file: file, line: line)
            return nil
        } catch let e as NixError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    func check(_ src: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let out = try eval(src)
            XCTAssertEqual(out, expected, src, file: file, line: line)
        } catch {
            XCTFail("\(src): \(error)", file: file, line: line)
        }
    }

    // MARK: eval-okay style

    func testBasics() {
        check("1 + 2 * 3", "7")
        check("-5 - -2", "-3")
        check("7 / 2", "3")
        check("1.5 + 1", "2.5")
        check("true && !false", "true")
        check("false -> throw \"x\"", "true")
        check("null", "null")
        check("[ 1 \"a\" null ]", "[ 1 \"a\" null ]")
        check("{ b = 1; a = 2; }", "{ a = 2; b = 1; }")
        check("{ }", "{ }")
        check("[ ]", "[ ]")
        check("\"a\\n\\\"b\\${x}\"", "\"a\\n\\\"b\\${x}\"")
        check("[ 1 2 ] ++ [ 3 ]", "[ 1 2 3 ]")
        check("{ a = 1; } // { b = 2; }", "{ a = 1; b = 2; }")
        check("[ 1 2 ] == [ 1 2 ]", "true")
        check("{ a = [ 1 ]; } == { a = [ 1 ]; }", "true")
        check("1 == 1.0", "true")
        check("\"a\" < \"b\"", "true")
        check("http://example.org/x", "\"http://example.org/x\"")
    }

    func testStrings() {
        check("let x = \"b\"; in \"a${x}c\"", "\"abc\"")
        check("''\n  foo\n    bar\n  baz\n''", "\"foo\\n  bar\\nbaz\\n\"")
        check("''a''$b'''c''\\nd''", "\"a$b''c\\nd\"")
        check("\"a\" + \"b\"", "\"ab\"")
        check("./x + \"/y\"", "/base/x/y")
        check("toString [ 1 \"a\" null true ]", "\"1 a  1\"")
    }

    func testAttrsAndScopes() {
        check("{ a.b.c = 1; a.b.d = 2; }", "{ a = { b = { c = 1; d = 2; }; }; }")
        check("rec { a = 1; b = a + 1; }", "{ a = 1; b = 2; }")
        check("let x = 1; in { inherit x; }", "{ x = 1; }")
        check("let s = { x = 1; y = 2; }; in { inherit (s) x y; }", "{ x = 1; y = 2; }")
        check("let n = \"k\"; in { ${n} = 1; \"q\" = 2; }", "{ k = 1; q = 2; }")
        check("with { x = 1; }; x", "1")
        check("let x = 2; in with { x = 1; }; x", "2")
        check("with { x = 1; }; with { x = 2; }; x", "2")
        check("{ a.b = 1; } ? a.b", "true")
        check("{ a = 1; }.b or 3", "3")
        check("let a = { x = 1; }; in [ a a ]", "[ { x = 1; } «repeated» ]")
    }

    func testFunctions() {
        check("({ a, b ? a + 1, ... }@args: b + args.a) { a = 5; c = 0; }", "11")
        check("(args@{ a }: args.a) { a = 3; }", "3")
        check("builtins.functionArgs ({ a, b ? 1 }: a)", "{ a = false; b = true; }")
        check("let f = { __functor = self: x: x + 1; }; in f 1", "2")
        XCTAssertEqual(evalError("({ a }: a) { }")?.kind, .missingArgument)
        XCTAssertEqual(evalError("({ a }: a) { a = 1; b = 2; }")?.kind, .unexpectedArgument)
    }

    func testBuiltins() {
        check("builtins.attrNames { b = 1; a = 2; }", "[ \"a\" \"b\" ]")
        check("map (x: x * 2) [ 1 2 3 ]", "[ 2 4 6 ]")
        check("builtins.filter (x: x > 1) [ 1 2 3 ]", "[ 2 3 ]")
        check("builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ]", "6")
        check("builtins.sort builtins.lessThan [ 3 1 2 ]", "[ 1 2 3 ]")
        check("builtins.genList (x: x * x) 4", "[ 0 1 4 9 ]")
        // POSIX regexes as Nix's: `.` matches a newline, and the empty regex splits between characters.
        check("builtins.match \"a.b\" \"a\\nb\"", "[ ]")
        check("builtins.split \"\" \"ab\"", "[ \"\" [ ] \"a\" [ ] \"b\" [ ] \"\" ]")
        check("builtins.listToAttrs [ { name = \"a\"; value = 1; } ]", "{ a = 1; }")
        check("builtins.mapAttrs (n: v: v + 1) { a = 1; }", "{ a = 2; }")
        check("builtins.substring 1 2 \"abcd\"", "\"bc\"")
        check("builtins.replaceStrings [ \"a\" ] [ \"x\" ] \"banana\"", "\"bxnxnx\"")
        check("builtins.concatStringsSep \",\" [ \"a\" \"b\" ]", "\"a,b\"")
        check("builtins.toJSON { a = [ 1 2.5 \"x\" ]; b = null; }", "\"{\\\"a\\\":[1,2.5,\\\"x\\\"],\\\"b\\\":null}\"")
        check("builtins.fromJSON ''{\"a\": [1, 2.5, true]}''", "{ a = [ 1 2.5 true ]; }")
        check("builtins.compareVersions \"1.2\" \"1.10\"", "-1")
        check("builtins.splitVersion \"1.2pre3\"", "[ \"1\" \"2\" \"pre\" \"3\" ]")
        check("builtins.tryEval (throw \"x\")", "{ success = false; value = false; }")
        check("builtins.tryEval 1", "{ success = true; value = 1; }")
        check("builtins.typeOf 1.5", "\"float\"")
        check("builtins.zipAttrsWith (n: v: v) [ { a = 1; } { a = 2; } ]", "{ a = [ 1 2 ]; }")
        check("builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 3 then [ { key = x.key + 1; } ] else [ ]; }",
              "[ { key = 1; } { key = 2; } { key = 3; } ]")
        check("builtins.hashString \"sha256\" \"abc\"", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")
    }

    func testDerivationPathsMatchNix() {
        check("(derivation { name = \"a\"; builder = \"/foo\"; system = \"i686-linux\"; }).drvPath",
              "\"/nix/store/zaz3l3zq54f6vzlqwv52zid34z0p4ba0-a.drv\"")
        check("let a = derivation { name = \"a\"; builder = \"/foo\"; system = \"i686-linux\"; outputs = [ \"out\" \"dev\" ]; }; in (derivation { name = \"b\"; builder = \"${a.dev}/bin/sh\"; system = \"x\"; }).drvPath",
              "\"/nix/store/mhdx80b5w8p5gpxam5882pshsyr1ybxv-b.drv\"")
    }

    // MARK: Laziness

    func testLaziness() {
        check("let x = throw \"no\"; in 1", "1")
        check("{ a = throw \"x\"; b = 2; }.b", "2")
        check("builtins.length [ (throw \"a\") (throw \"b\") ]", "2")
        check("(x: 1) (throw \"x\")", "1")
        check("let xs = builtins.genList (x: x) 1000000; in builtins.elemAt xs 999999", "999999")
    }

    // MARK: Errors

    func testInfiniteRecursion() {
        XCTAssertEqual(evalError("let x = x; in x")?.kind, .infiniteRecursion)
        XCTAssertEqual(evalError("rec { a = b; b = a; }.a")?.kind, .infiniteRecursion)
    }

    func testDeepRecursionDoesNotCrash() {
        do {
            let r = try eval("let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000000")
            XCTAssertEqual(r, "1000000")
        } catch let e as NixError {
            XCTAssertEqual(e.kind, .stackOverflow)
        } catch {
            XCTFail("\(error)")
        }
        XCTAssertEqual(evalError("let f = x: f x; in f 1")?.kind, .stackOverflow)
    }

    func testReleasingALongChainDoesNotOverflowTheStack() throws {
        // Building a list nested 200,000 deep needs no stack (foldl' is a loop, `[ acc ]` does
        // not force acc), but releasing it link by link from each deinit would need ~30 MB:
        // on a 1 MiB stack this crashed before thunks bounded how deep releases nest.
        let out = try runWithLargeStack(stackSize: 1 << 20) { () throws -> String in
            let ev = Evaluator(io: MemoryEvalIO())
            let v = try ev.evalString("let l = builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 200000); in builtins.seq l 1", baseDirectory: "/base")
            return try ev.printValue(v)
        }
        XCTAssertEqual(out, "1")
    }

    func testUndefinedVariableLocation() throws {
        let src = "{\n  networking.hostName = \"minimal\";\n  environment.systemPackages = [ foo ];\n}\n"
        let e = try XCTUnwrap(evalError(src))
        XCTAssertEqual(e.kind, .undefinedVariable)
        XCTAssertEqual(e.message, "undefined variable 'foo'")
        XCTAssertEqual(e.location?.line, 3)
        XCTAssertEqual(e.location?.column, 34)
        XCTAssertEqual(e.description, """
        error: undefined variable 'foo'

               at «string»:3:34:

                    2|   networking.hostName = "minimal";
                    3|   environment.systemPackages = [ foo ];
                     |                                  ^
                    4| }
        """)
    }

    func testParseErrors() throws {
        let e = try XCTUnwrap(evalError("{ a = 1 }"))
        XCTAssertEqual(e.kind, .parse)
        XCTAssertEqual(e.message, "syntax error, unexpected '}', expecting ';'")
        XCTAssertEqual(e.location?.column, 9)
        for bad in ["(", "{ a = ", "''abc", "\"abc", "1 +", "let in", "[ 1 ", "a.b.", "{ a = 1; a = 2; }", "x: y:", "${", "}", "/* x"] {
            XCTAssertNotNil(evalError(bad), bad)
        }
    }

    func testThrowAndAssert() throws {
        let e = try XCTUnwrap(evalError("throw \"boom\""))
        XCTAssertEqual(e.kind, .thrown)
        XCTAssertTrue(e.description.hasPrefix("error: boom"))
        XCTAssertEqual(evalError("assert 1 == 2; 3")?.kind, .assertion)
        XCTAssertEqual(evalError("1 / 0")?.kind, .divisionByZero)
        XCTAssertEqual(evalError("1 + \"a\"")?.kind, .typeError)
        XCTAssertEqual(evalError("{ }.a")?.kind, .missingAttribute)
        XCTAssertEqual(NixError(.thrown, "x").withContext("while evaluating the attribute 'a'").notes.count, 1)
    }

    // MARK: Host API

    func testImportAndHostValues() throws {
        let io = MemoryEvalIO(files: ["/p/default.nix": "{ x = import ./lib.nix; }", "/p/lib.nix": "1 + 1"])
        let result: String = try runWithLargeStack {
            let ev = Evaluator(io: io)
            let v = try ev.evalFile("/p")
            let x = try ev.attr(v, "x")
            return try ev.printValue(x ?? .null)
        }
        XCTAssertEqual(result, "2")
    }

    func testFallbackAttrSet() throws {
        let out: String = try runWithLargeStack {
            let ev = Evaluator(io: MemoryEvalIO())
            let pkgs = AttrSet(["explicit": Thunk(value: .int(1))], fallback: { name in .str("pkg-" + name) })
            let f = try ev.evalString("pkgs: with pkgs; [ bash coreutils explicit pkgs.hello ]", baseDirectory: "/")
            let lazy = Thunk(lazy: { .attrs(pkgs) })
            let r = try ev.call(f, lazy)
            let native = Value.native(name: "double") { ev, t in
                guard case .int(let i) = try ev.force(t) else { return .null }
                return .int(i * 2)
            }
            let g = try ev.evalString("f: f 21", baseDirectory: "/")
            let d = try ev.call(g, native)
            return try ev.printValue(r) + " " + ev.printValue(d) + " " + ev.toJSON(.attrs(pkgs))
        }
        XCTAssertEqual(out, "[ \"pkg-bash\" \"pkg-coreutils\" 1 \"pkg-hello\" ] 42 {\"explicit\":1}")
    }

    func testMalformedInputsNeverTrap() {
        let inputs = ["", "((((((((", String(repeating: "(", count: 100000), String(repeating: "[", count: 50000),
                      "\u{0}", "''${", "\"${\"${\"", "9999999999999999999999", "builtins.substring (-1) 2 \"x\"",
                      "builtins.elemAt [ ] 5", "builtins.head [ ]", "-9223372036854775807 - 2", "(-9223372036854775807 - 1) / -1",
                      "let { }", "{ a.b = 1; a = 2; }", "x: x.${", "~/", "<nixpkgs>", "a @ b"]
        for i in inputs {
            _ = try? eval(i)
        }
    }
}
