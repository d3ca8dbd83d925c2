import XCTest
@testable import KilnVMTest
import KilnSupport

/// The test driver's Python half against kiln's, with no machine: the protocol, the script's
/// globals, subtests in JUnit, and failures that name the test file's line and both sides
/// of a failed comparison. (The machine methods are exercised by the VM tests.)
final class PythonDriverTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kiln-pydriver-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `script` as if it began on line `firstLine` of `test.nix`; returns the failure and the driver.
    private func run(_ script: String, firstLine: Int = 10) throws -> (String?, Driver) {
        let driver = try Driver(testName: "t", specs: [], outputDirectory: directory + "/out", defaultTimeout: 5, echoConsole: false,
                                network: false)
        let failure = driver.run(TestScriptSource(text: script, file: directory + "/test.nix", firstLine: firstLine))
        return (failure, driver)
    }

    func testPassingScriptWithTheStandardLibrary() throws {
        let (failure, driver) = try run("""
            import json, re
            def double(x):
                return 2 * x
            data = json.loads('{"n": [1, 2, 3]}')
            with subtest("python"):
                assert [double(n) for n in data["n"]] == [2, 4, 6]
                assert machines == []
                log.info("from the script")
                with log.nested("a step"):
                    pass
            t.assertEqual(re.sub("a", "b", "aa"), "bb")
            """)
        XCTAssertNil(failure)
        XCTAssertEqual(driver.logger.subtests.map(\.name), ["python"])
        let log = try String(contentsOfFile: directory + "/out/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("from the script"), log)
    }

    func testFailureNamesTheLineAndBothSides() throws {
        let (failure, driver) = try run("""
            with subtest("ok"):
                pass
            with subtest("compare"):
                out = "hello\\n"
                assert out.strip() == "goodbye"
            """)
        let text = try XCTUnwrap(failure)
        XCTAssertTrue(text.hasPrefix("\(directory)/test.nix:14: AssertionError: assert out.strip() == 'goodbye'"), text)
        XCTAssertTrue(text.contains("left:  'hello'"), text)
        XCTAssertTrue(text.contains("right: 'goodbye'"), text)
        XCTAssertEqual(driver.logger.subtests.map(\.name), ["ok", "compare"])
        XCTAssertNil(driver.logger.subtests[0].failure)
        XCTAssertNotNil(driver.logger.subtests[1].failure)
        let xml = driver.logger.junitXML(testName: "t", failure: failure, seconds: 1)
        XCTAssertTrue(xml.contains("tests=\"2\" failures=\"1\""), xml)
    }

    func testUnknownMachineAndExceptions() throws {
        let (failure, _) = try run("x = {}\nx['missing']\n", firstLine: 3)
        XCTAssertEqual(failure?.components(separatedBy: "\n").first, "\(directory)/test.nix:4: KeyError: 'missing'")
        // sys.exit() ends the script: passed with 0, failed otherwise.
        XCTAssertNil(try run("import sys\nsys.exit(0)\nassert False\n").0)
        XCTAssertEqual(try run("import sys\nsys.exit(3)\n").0, "the script called sys.exit(3)")
    }

    func testSyntaxErrorBeforeAnyBuild() throws {
        let file = directory + "/test.nix"
        try "{\n  testScript = ''\n    start_all()\n    if True\n        pass\n  '';\n}\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PythonDriver.check(TestScriptSource(text: "start_all()\nif True\n    pass\n", file: file, firstLine: 3))) { e in
            XCTAssertTrue(e.kilnMessage.contains("\(file):4:12: expected ':'"), e.kilnMessage)
        }
        XCTAssertNoThrow(try PythonDriver.check(TestScriptSource(text: "start_all()\n", file: file, firstLine: 3)))
    }
}
