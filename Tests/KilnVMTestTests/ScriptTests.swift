import XCTest
@testable import KilnVMTest
import KilnSupport

/// A script host that records calls and answers from a table, so the language is tested
/// without QEMU.
final class FakeHost: ScriptHost {
    var machineNames = ["server", "client"]
    var calls: [String] = []
    var answers: [String: ScriptValue] = [:]
    var subtests: [(String, Bool)] = []

    func callMachine(_ machine: String, _ method: String, _ args: CallArguments) throws -> ScriptValue {
        let rendered = args.positional.map(\.repr) + args.keywords.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.repr)" }
        calls.append("\(machine).\(method)(\(rendered.joined(separator: ", ")))")
        if method == "fail_here" { throw KilnError("\(machine): it failed") }
        return answers["\(machine).\(method)"] ?? .none
    }
    func startAll() throws { calls.append("start_all()") }
    func beginSubtest(_ name: String) {}
    func endSubtest(_ name: String, error: Error?) { subtests.append((name, error == nil)) }
    func log(_ text: String) { calls.append("print: \(text)") }
}

final class ScriptTests: XCTestCase {
    private func run(_ source: String, host: FakeHost = FakeHost()) throws -> FakeHost {
        try ScriptRunner(host: host).run(TestScript(parsing: source))
        return host
    }

    private func error(_ source: String, host: FakeHost = FakeHost()) -> ScriptError? {
        do { _ = try run(source, host: host); return nil } catch let e as ScriptError { return e } catch { XCTFail("\(error)"); return nil }
    }

    func testCallsKeywordsAndStrings() throws {
        let h = try run("""
            start_all()
            server.wait_for_unit("sshd.service", timeout=30)  # a comment
            client.succeed('echo "a"', "b\\tc", '''multi
            line''', r"\\d+")
            server.wait_for_open_port(
                22,
                timeout=5,
            )
            """)
        XCTAssertEqual(h.calls, [
            "start_all()",
            "server.wait_for_unit('sshd.service', timeout=30)",
            "client.succeed('echo \"a\"', 'b\tc', 'multi\\nline', '\\\\d+')",
            "server.wait_for_open_port(22, timeout=5)",
        ])
    }

    func testAssignmentsAssertsAndFStrings() throws {
        let host = FakeHost()
        host.answers["server.succeed"] = .str("hello world\n")
        host.answers["server.execute"] = .tuple([.int(3), .str("out")])
        let h = try run("""
            out = server.succeed("echo hello world")
            assert "hello" in out
            assert "bye" not in out
            assert out.strip() == "hello world", "unexpected"
            status, text = server.execute("exit 3")
            assert status == 3 and text != ""
            key = out.split()[1]
            client.succeed(f"echo '{key}' > /x", f"{{literal}} {status + 1}")
            """, host: host)
        XCTAssertEqual(h.calls.last, "client.succeed('echo \\'world\\' > /x', '{literal} 4')")
    }

    func testFailedAssertNamesLineAndValues() {
        let host = FakeHost()
        host.answers["server.succeed"] = .str("abc")
        let e = error("""
            x = server.succeed("true")

            assert "z" in x, "no z"
            """, host: host)
        XCTAssertEqual(e?.line, 3)
        XCTAssertTrue(e?.message.contains("assertion failed: 'z' in x: no z") ?? false, e?.message ?? "")
        XCTAssertTrue(e?.message.contains("right: 'abc'") ?? false)
    }

    func testMachineFailureCarriesLineAndSubtestResult() {
        let host = FakeHost()
        let e = error("""
            with subtest("first"):
                server.succeed("true")
            with subtest("second"):
                client.succeed("true")
                client.fail_here()
            server.succeed("never")
            """, host: host)
        XCTAssertEqual(e?.line, 5)
        XCTAssertEqual(e?.message, "client: it failed")
        XCTAssertEqual(host.subtests.map(\.0), ["first", "second"])
        XCTAssertEqual(host.subtests.map(\.1), [true, false])
        XCTAssertFalse(host.calls.contains("server.succeed('never')"))
    }

    func testSyntaxErrorsHaveLines() {
        XCTAssertEqual(error("server.succeed(\"x\"\nclient.succeed(\"y\")")?.line, 2)
        XCTAssertEqual(error("a = 1\nserver.succeed('unterminated)")?.line, 2)
        XCTAssertEqual(error("with subtest(\"x\"):\nserver.succeed(\"y\")")?.line, 2)
        XCTAssertEqual(error("x = 1\n  y = 2")?.line, 2)
        XCTAssertEqual(error("nobody.succeed(\"x\")")?.message.contains("name 'nobody' is not defined"), true)
    }

    func testSubtestNamesForReports() throws {
        let s = try TestScript(parsing: "with subtest(\"a\"):\n    pass\nwith subtest('b'):\n    with subtest(\"c\"): pass\n")
        XCTAssertEqual(s.subtestNames, ["a", "b", "c"])
    }

    func testArgumentBinding() throws {
        let a = CallArguments("m.wait_for_unit", positional: [.str("x")], keywords: ["timeout": .int(5)])
        let b = try a.bind(["unit", "user", "timeout"], required: 1)
        XCTAssertEqual(try b.string("unit"), "x")
        XCTAssertEqual(try b.number("timeout"), 5)
        XCTAssertThrowsError(try CallArguments("f", keywords: ["nope": .int(1)]).bind(["a"]))
        XCTAssertThrowsError(try CallArguments("f").bind(["a"], required: 1))
    }

    func testJUnitHasOneCasePerSubtest() {
        let logger = TestLogger(logPath: nil, echoConsole: false)
        logger.beginSubtest("boots")
        logger.endSubtest("boots", error: nil)
        logger.beginSubtest("serves <pages>")
        logger.endSubtest("serves <pages>", error: KilnError("server: it failed & stopped"))
        let xml = logger.junitXML(testName: "web", failure: "testScript line 9: server: it failed & stopped", seconds: 12)
        XCTAssertTrue(xml.contains("tests=\"2\" failures=\"1\""))
        XCTAssertTrue(xml.contains("<testcase classname=\"web\" name=\"boots\""))
        XCTAssertTrue(xml.contains("name=\"serves &lt;pages&gt;\""))
        XCTAssertTrue(xml.contains("<failure message=\"server: it failed &amp; stopped\">"))
    }
}
