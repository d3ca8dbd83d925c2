import XCTest
import NixLang

/// builtins.match and builtins.split on long strings (a whole file, a large option value):
/// they must work, not end in "too complex to match".
final class RegexScaleTests: XCTestCase {
    private func eval(_ src: String) throws -> String {
        try runWithLargeStack {
            let ev = Evaluator(io: MemoryEvalIO())
            return try ev.printValue(try ev.evalString(src, baseDirectory: "/"))
        }
    }

    /// A pattern without groups is matched breadth first; wrapped in a group, the same
    /// pattern goes through the depth-first executor. Both must agree on every subject.
    func testPatternsWithoutGroupsMatchAsTheExecutorDoes() throws {
        let patterns = ["", "a", "ab|a", "a|", "|b", "x*|y+", "^a*$", "a^b", "a$b", "a**", "a{2}{3}", "[ab]{2,4}c?",
                        ".*", "[^a]*a", "a+b*a+", "[[:alpha:]]+c", "b{0,2}a{1,}", "a?b?c?", "^$", ".", "..?c"]
        var subjects = [""]
        var frontier = [""]
        for _ in 0..<5 {
            frontier = frontier.flatMap { s in ["a", "b", "c"].map { s + $0 } }
            subjects += frontier
        }
        let strs = subjects.map { "\"\($0)\"" }.joined(separator: " ")
        for p in patterns where !p.contains("(") {
            let src = """
                builtins.filter (s: (builtins.match "\(p)" s != null) != (builtins.match "(\(p))" s != null)) [ \(strs) ]
                """
            XCTAssertEqual(try eval(src), "[ ]", "pattern \(p)")
        }
    }

    func testLongSubjects() throws {
        // Long enough that the depth-first executor would pass its step limit.
        let big = "builtins.concatStringsSep \"\" (builtins.genList (_: \"aaaaaaaaaa\") 1000000)"
        XCTAssertEqual(try eval("builtins.match \"[[:alnum:],._+:@%/-]+\" (\(big))"), "[ ]")
        XCTAssertEqual(try eval("builtins.match \"[[:alnum:],._+:@%/-]+\" ((\(big)) + \"'\")"), "null")
        let lines = "builtins.concatStringsSep \"\\n\" (builtins.genList (_: \"x\") 200000)"
        XCTAssertEqual(try eval("builtins.length (builtins.split \"\\n\" (\(lines)))"), "399999")
        // A plain-string pattern splits as any other does.
        XCTAssertEqual(try eval("[ (builtins.split \"ab\" \"xabyabab\") (builtins.split \"a\" \"aaa\") (builtins.split \"\\n\" \"\") ]"),
                       "[ [ \"x\" [ ] \"y\" [ ] \"\" [ ] \"\" ] [ \"\" [ ] \"\" [ ] \"\" [ ] \"\" ] [ \"\" ] ]")
    }
}
