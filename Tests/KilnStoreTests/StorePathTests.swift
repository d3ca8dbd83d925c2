import XCTest
import KilnPrimitives
import KilnStore

final class StorePathTests: XCTestCase {
    func testStorePathIsNixs() {
        // nix-instantiate --eval -E 'builtins.toFile "foo" "bar"'
        let p = StorePath(type: "text", contentHash: Digest.sha256("bar"), name: "foo")
        XCTAssertEqual(p.path, "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo")
    }

    func testNamesAreSanitised() {
        let p = StorePath(type: "kiln-deb", contentHash: [UInt8](repeating: 1, count: 32), name: "libfoo-1:2.3~rc1")
        XCTAssertEqual(p.name, "libfoo-1_2.3_rc1")
        XCTAssertEqual(p.hashPart.count, 32)
    }
}
