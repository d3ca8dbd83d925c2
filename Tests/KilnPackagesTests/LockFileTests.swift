import XCTest
import Foundation
import KilnPackages
import KilnSupport

/// A damaged lock is described in its own terms: line and column of a syntax error, the key
/// and the JSON type it should hold; never Swift's type names.
final class LockFileTests: XCTestCase {
    private let good = """
        {
          "architecture" : "amd64",
          "lockVersion" : 1,
          "packages" : [
            { "architecture" : "amd64", "depends" : [ ], "filename" : "pool/b/bash.deb", "name" : "bash",
              "sha256" : "00", "size" : 10, "version" : "5.2" }
          ],
          "roots" : [ "bash" ]
        }
        """

    /// The first line of the message reading `text` as a lock gives, or nil if it reads.
    private func problem(_ text: String) throws -> String? {
        let path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kiln-lock-\(getpid())-\(UUID().uuidString).lock").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try LockFile.read(path)
            return nil
        } catch {
            return error.kilnMessage.components(separatedBy: "\n").first?.replacingOccurrences(of: path, with: "L")
        }
    }

    private func edited(_ from: String, _ to: String) -> String {
        precondition(good.contains(from))
        return good.replacingOccurrences(of: from, with: to)
    }

    func testGoodLockReads() throws {
        XCTAssertNil(try problem(good))
        XCTAssertNil(try problem(edited("\"size\" : 10", "\"size\" : 10.0")))
    }

    func testSyntaxErrorsGiveLineAndColumn() throws {
        XCTAssertEqual(try problem("<<<<<<< HEAD\n{ \"lockVersion\" : 1,\n=======\n"),
                       "lock file 'L' is not valid JSON: invalid value at line 1, column 1")
        XCTAssertEqual(try problem(edited("\"roots\" : [ \"bash\" ]", "\"roots\" : [ bash ]")),
                       "lock file 'L' is not valid JSON: invalid value at line 8, column 15")
        XCTAssertEqual(try problem("{ \"a\": \"ééé\", x }"), "lock file 'L' is not valid JSON: invalid value at line 1, column 15")
        XCTAssertEqual(try problem("{\n  \"lockVersion\" : 1,\n"), "lock file 'L' is not valid JSON: it ends before its JSON value does (at line 2)")
        XCTAssertEqual(try problem(""), "lock file 'L' is not valid JSON: it is empty")
    }

    func testWrongTypesNameTheKeyAndWhatItHolds() throws {
        XCTAssertEqual(try problem(edited("\"roots\" : [ \"bash\" ]", "\"roots\" : \"x\"")),
                       "lock file 'L' is not valid: 'roots' must be a list of package names, not the string \"x\"")
        XCTAssertEqual(try problem(edited("\"roots\" : [ \"bash\" ]", "\"roots\" : [ \"bash\", 3 ]")),
                       "lock file 'L' is not valid: 'roots[1]' must be a package name (a string), not the number 3")
        XCTAssertEqual(try problem(edited("\"size\" : 10", "\"size\" : \"10\"")),
                       "lock file 'L' is not valid: 'packages[0].size' (bash) must be an integer (the .deb's size in bytes), not the string \"10\"")
        XCTAssertEqual(try problem(edited("\"size\" : 10", "\"size\" : 1.5")),
                       "lock file 'L' is not valid: 'packages[0].size' (bash) must be an integer (the .deb's size in bytes), not the number 1.5")
        XCTAssertEqual(try problem(edited("\"depends\" : [ ]", "\"depends\" : null")),
                       "lock file 'L' is not valid: 'packages[0].depends' (bash) must be a list of package names, not null")
        XCTAssertEqual(try problem(edited("\"name\" : \"bash\"", "\"name\" : true")),
                       "lock file 'L' is not valid: 'packages[0].name' must be a string, not true")
        XCTAssertEqual(try problem(edited("\"sha256\" : \"00\", ", "")),
                       "lock file 'L' is not valid: 'packages[0].sha256' (bash) is missing")
        XCTAssertEqual(try problem("[ 1 ]"),
                       "lock file 'L' is not valid: it is a list, not an object with lockVersion, architecture, roots and packages")
        XCTAssertEqual(try problem(edited("\"lockVersion\" : 1", "\"lockVersion\" : \"1\"")),
                       "lock file 'L' is not valid: 'lockVersion' must be an integer (the lock format's version), not the string \"1\"")
        XCTAssertEqual(try problem(edited("\"lockVersion\" : 1", "\"lockVersion\" : 99")),
                       "lock file 'L' has lockVersion 99, but this kiln reads version 1")
    }
}
