import XCTest
import Foundation
import NixLang

/// What the evaluator does with bad input from the host: files that are missing, unreadable,
/// directories or not UTF-8, floats that do not fit an integer, control bytes in a source.
final class HostInputTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kiln-nixlang-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        _ = chmod(dir + "/secret", 0o644)
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
    }

    /// Evaluates `src` on the host file system with `dir` as its directory; `inThread` runs
    /// first on the evaluation thread.
    private func eval(_ src: String, inThread: @escaping () -> Void = {}) throws -> String {
        let base = dir
        return try runWithLargeStack {
            inThread()
            let ev = Evaluator(io: RealEvalIO())
            return try ev.printValue(try ev.evalString(src, baseDirectory: base))
        }
    }

    private func error(_ src: String, inThread: @escaping () -> Void = {}, file: StaticString = #filePath, line: UInt = #line) -> NixError? {
        do {
            let out = try eval(src, inThread: inThread)
            XCTFail("expected an error, got \(out)", file: file, line: line)
        } catch let e as NixError {
            return e
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: readDir

    func testReadDirOfAMissingPathOrAFileFailsNamingThePath() throws {
        try write("file", Array("x".utf8))
        XCTAssertEqual(error("builtins.readDir ./missing")?.message, "opening directory '\(dir)/missing': No such file or directory")
        XCTAssertEqual(error("builtins.readDir ./file")?.message, "opening directory '\(dir)/file': Not a directory")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "file")
        XCTAssertEqual(try eval("builtins.readDir ./."), "{ file = \"regular\"; link = \"symlink\"; sub = \"directory\"; }")
        XCTAssertEqual(try eval("builtins.readDir ./sub"), "{ }")
    }

    // MARK: readFile and import

    func testReadFileOfBytesThatAreNotUTF8FailsNamingTheFileAndOffset() throws {
        try write("latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x21])   // "café!" in Latin-1
        let e = try XCTUnwrap(error("builtins.stringLength (builtins.readFile ./latin1.txt)"))
        XCTAssertEqual(e.message, "file '\(dir)/latin1.txt' is not valid UTF-8: byte 0xe9 at offset 3; Kiln's strings are UTF-8 text, so it cannot read this file as a string")
        // Valid UTF-8 keeps every byte: Nix's stringLength counts bytes.
        try write("utf8.txt", Array("café!".utf8))
        XCTAssertEqual(try eval("builtins.stringLength (builtins.readFile ./utf8.txt)"), "6")
        // A truncated sequence at the end, and an import of such a file.
        try write("cut.nix", Array("\"ab".utf8) + [0xE2, 0x82])
        XCTAssertEqual(error("import ./cut.nix")?.message.hasPrefix("file '\(dir)/cut.nix' is not valid UTF-8: byte 0xe2 at offset 3"), true)
    }

    func testReadFileAndImportReportTheRealReason() throws {
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        XCTAssertEqual(error("builtins.readFile ./empty")?.message, "reading file '\(dir)/empty': Is a directory")
        XCTAssertEqual(error("import ./empty")?.message, "cannot import '\(dir)/empty': it is a directory, and it has no default.nix")
        XCTAssertEqual(error("import ./missing.nix")?.message, "opening file '\(dir)/missing.nix': No such file or directory")
        try FileManager.default.createDirectory(atPath: dir + "/pkg", withIntermediateDirectories: true)
        try write("pkg/default.nix", Array("40 + 2".utf8))
        XCTAssertEqual(try eval("import ./pkg"), "42")

        try write("secret", Array("1".utf8))
        XCTAssertEqual(chmod(dir + "/secret", 0), 0)
        // Root reads any file; on the evaluation thread alone, a file-system uid of nobody
        // (which drops CAP_DAC_OVERRIDE for that thread) makes the permissions count.
        let asNobody = getuid() == 0 ? Self.setThreadFileSystemUID(65534) : {}
        XCTAssertEqual(error("builtins.readFile ./secret", inThread: asNobody)?.message, "opening file '\(dir)/secret': Permission denied")
        XCTAssertEqual(error("import ./secret", inThread: asNobody)?.message, "opening file '\(dir)/secret': Permission denied")
    }

    /// setfsuid(2) for the calling thread only (the kernel keeps it per thread; glibc does not
    /// spread it to the others as it does setuid).
    private static func setThreadFileSystemUID(_ uid: UInt32) -> () -> Void {
        {
            typealias SetFSUID = @convention(c) (UInt32) -> Int32
            guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid") else { return }
            _ = unsafeBitCast(sym, to: SetFSUID.self)(uid)
        }
    }

    func testMemoryIOFailsLikeTheHost() throws {
        let io = MemoryEvalIO(files: ["/p/a.nix": "1"])
        let e: NixError? = {
            do { _ = try runWithLargeStack { try Evaluator(io: io).evalString("builtins.readDir /p/a.nix", baseDirectory: "/") } } catch let e as NixError { return e } catch {}
            return nil
        }()
        XCTAssertEqual(e?.message, "opening directory '/p/a.nix': Not a directory")
    }

    // MARK: Floats to integers

    func testFloorAndCeilOfFloatsBeyond64BitsFail() throws {
        for (src, shown) in [("builtins.ceil 1.0e300", "1e+300"), ("builtins.floor (-1.0e300)", "-1e+300"),
                             ("builtins.ceil (1.0e308 * 10)", "inf"), ("builtins.floor (1.0e308 * 10 - 1.0e308 * 10)", "nan"),
                             ("builtins.floor 9223372036854775808.0", "9.22337e+18")] {
            let e = try XCTUnwrap(error(src), src)
            XCTAssertEqual(e.kind, .overflow, src)
            // NaN prints as "nan" or "-nan" depending on its sign bit, which the CPU chooses.
            let builtin = src.hasPrefix("builtins.ceil") ? "ceil" : "floor"
            XCTAssertTrue(e.message.hasPrefix("builtins.\(builtin): \(shown) does not fit in a 64-bit integer")
                          || e.message.hasPrefix("builtins.\(builtin): -\(shown) does not fit in a 64-bit integer"), e.message)
        }
        XCTAssertEqual(try eval("[ (builtins.floor 9.2233720368547748e18) (builtins.ceil (-9.2233720368547758e18)) (builtins.ceil 2.5) (builtins.floor (-2.5)) ]"),
                       "[ 9223372036854774784 -9223372036854775808 3 -3 ]")
    }

    // MARK: Control characters in errors

    func testControlCharactersFromTheSourceAreEscapedAndTheCaretStaysAligned() throws {
        let e = try XCTUnwrap(error("{ x = \u{1b}[31m; }"))
        XCTAssertEqual(e.message, "syntax error, unexpected '\\x1b'")
        XCTAssertFalse(e.description.contains("\u{1b}"))
        XCTAssertTrue(e.description.contains("1| { x = \\x1b[31m; }\n             |       ^"), e.description)

        // A control byte before the error's column moves the caret by its escape's width; a
        // tab stays a tab in both lines.
        let f = try XCTUnwrap(error("{\n\ta = \"\u{1b}[31m\u{7}\" + 1;\n}"))
        let lines = f.description.components(separatedBy: "\n")
        let source = try XCTUnwrap(lines.first { $0.contains("2| ") })
        let caret = try XCTUnwrap(lines.first { $0.hasSuffix("^") })
        XCTAssertFalse(f.description.contains("\u{1b}") || f.description.contains("\u{7}"))
        XCTAssertEqual(source, "            2| \ta = \"\\x1b[31m\\x07\" + 1;")
        XCTAssertEqual(Array(caret).count, Array(source).firstIndex(of: "+").map { $0 + 1 })
        XCTAssertEqual(Array(caret)[Array(source).firstIndex(of: "\t") ?? 0], "\t")

        // Text from values too: a thrown message cannot drive the terminal, its lines stay.
        let t = try XCTUnwrap(error("throw \"a\\nb\u{1b}[2J\\r\""))
        XCTAssertTrue(t.description.hasPrefix("error: a\nb\\x1b[2J\\x0d"), t.description)

        XCTAssertEqual(escapeControlCharacters("tab\there\u{9b}\u{7f}"), "tab\there\\u{9b}\\x7f")

        // A file's name is shown escaped too.
        let name = dir + "/bad\u{1b}name.nix"
        try write("bad\u{1b}name.nix", Array("1 +".utf8))
        let n = try XCTUnwrap(error("import \"\(name)\""))
        XCTAssertTrue(n.description.contains("at \(dir)/bad\\x1bname.nix:1:4:"), n.description)
        XCTAssertFalse(n.description.contains("\u{1b}"), n.description)
    }
}
