import XCTest
@testable import KilnVMTest
import KilnModules
import KilnSupport

/// Reading test files: the shipped VM tests load as before, and files of the wrong shape are
/// named and described without evaluator internals.
final class TestFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kiln-testfile-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The message `load` throws for `text`, or nil if it loads.
    private func loadError(_ text: String) throws -> String? {
        let path = try write("t.nix", text)
        do {
            _ = try TestFile.load(path)
            return nil
        } catch {
            return error.kilnMessage
        }
    }

    func testShippedTestsLoad() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tests = repo.appendingPathComponent("qemu-tests").path
        let files = try FileManager.default.contentsOfDirectory(atPath: tests).filter { $0.hasSuffix(".nix") }.sorted()
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let t = try TestFile.load(tests + "/" + f)
            XCTAssertEqual(t.name, String(f.dropLast(4)), f)
            XCTAssertFalse(t.nodes.isEmpty, f)
            XCTAssertTrue(!t.testScript.isEmpty || t.scriptIsFunction, f)
        }
        XCTAssertEqual(try TestFile.load(tests + "/nginx.nix").nodes, ["client", "server"])
        XCTAssertEqual(try TestFile.load(tests + "/corpus-iot.nix").hardware, "qemu-aarch64")
    }

    func testFields() throws {
        let path = try write("fields.nix", """
            { lib, ... }: {
              name = "my test";
              hardware = ./machine.nix;
              nodes.b = { }; nodes.a = { };
              allowedFailedUnits = [ "x.service" ];
              testScript = lib.concatStrings [ "a.start()" "\\n" ];
            }
            """)
        let t = try TestFile.load(path)
        XCTAssertEqual(t.name, "my-test")
        XCTAssertEqual(t.nodes, ["a", "b"])
        XCTAssertEqual(t.testScript, "a.start()\n")
        XCTAssertEqual(t.hardware, directory + "/machine.nix")
        XCTAssertEqual(t.allowedFailedUnits, ["x.service"])
        // Without a name, the file's name.
        let unnamed = try TestFile.load(try write("unnamed.nix", "{ nodes.m = { }; testScript = \"\"; }"))
        XCTAssertEqual(unnamed.name, "unnamed")
    }

    /// The forms NixOS tests are written in: `machine = …` for one node, testScript a
    /// function of the nodes' configurations, lint switches accepted.
    func testNixOSForms() throws {
        let single = try TestFile.load(try write("single.nix", """
            { pkgs, lib, ... }: {
              name = "single";
              skipLint = true;
              skipTypeCheck = true;
              machine = { pkgs, ... }: { networking.hostName = "from-config"; };
              testScript = { nodes, ... }: ''
                start_all()
                machine.succeed("hostname | grep -q ${nodes.machine.config.networking.hostName}")
              '';
            }
            """))
        XCTAssertEqual(single.nodes, ["machine"])
        XCTAssertTrue(single.scriptIsFunction)
        let profile = try write("machine-profile.nix", single.nodeProfile("machine", address: "192.168.1.1", hosts: ""))
        let script = try single.renderScript(nodeProfiles: ["machine": profile], hardware: try Hardware(nil))
        XCTAssertEqual(script, "start_all()\nmachine.succeed(\"hostname | grep -q from-config\")\n")
        // The script's first line is the file's line 7.
        XCTAssertEqual(single.scriptFirstLine(script), 7)
    }

    func testWrongShapes() throws {
        let profile = try loadError("{ pkgs, ... }: { networking.hostName = \"x\"; environment.systemPackages = [ pkgs.bash ]; }")
        XCTAssertEqual(profile?.components(separatedBy: "\n").first,
                       "test file '\(directory)/t.nix' has no nodes and no testScript: it looks like a profile (kiln build builds those), not a test")
        XCTAssertEqual(try loadError("{ config, ... }: { }")?.components(separatedBy: "\n").first,
                       "test file '\(directory)/t.nix' is a module (a function of config), not a test; kiln build builds profiles")
        XCTAssertTrue(try loadError("42")?.hasPrefix("test file '\(directory)/t.nix' evaluates to an integer, not an attribute set") ?? false)
        XCTAssertTrue(try loadError("{ nodes.m = { }; }")?.hasPrefix("test file '\(directory)/t.nix' has no testScript") ?? false)
        XCTAssertTrue(try loadError("{ nodes = [ ]; testScript = \"\"; }")?.hasPrefix("the nodes of test file '\(directory)/t.nix' are a list") ?? false)
        XCTAssertTrue(try loadError("{ nodes.m = { }; testScript = 1; }")?.hasPrefix("the testScript of test file '\(directory)/t.nix' is an integer") ?? false)
        XCTAssertTrue(try loadError("{ foo }: { }")?.hasPrefix("test file '\(directory)/t.nix' is a function taking foo") ?? false)
        // Errors inside the file name the file, and no wrapper of Kiln's.
        let thrown = try loadError("{ nodes.m = { }; testScript = throw \"boom\"; }")
        XCTAssertTrue(thrown?.contains("\(directory)/t.nix:1:31") ?? false, thrown ?? "")
        XCTAssertFalse(thrown?.contains("kiln test") ?? true, thrown ?? "")
        XCTAssertFalse(thrown?.contains("__kiln__") ?? true, thrown ?? "")
    }

    func testDirectory() throws {
        do {
            _ = try TestFile.load(directory)
            XCTFail("a directory loaded")
        } catch {
            XCTAssertTrue(error.kilnMessage.hasPrefix("test file '\(directory)' is a directory, not a .nix file"), error.kilnMessage)
        }
    }
}
