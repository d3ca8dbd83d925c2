import XCTest
import Foundation
import Crypto
import KilnStore

final class StorePathTests: XCTestCase {
    func testBase32MatchesNixHash() {
        // nix-hash --type sha256 --to-base32 $(echo -n hello | sha256sum)
        let digest = Array(SHA256.hash(data: Data("hello".utf8)))
        XCTAssertEqual(NixBase32.encode(digest), "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic")
    }

    func testStorePathMatchesNixToFile() {
        // nix-instantiate --eval -E 'builtins.toFile "foo" "bar"'
        let p = StorePath(type: "text", contentHash: Array(SHA256.hash(data: Data("bar".utf8))), name: "foo")
        XCTAssertEqual(p.path, "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo")
    }

    func testNamesAreSanitised() {
        let p = StorePath(type: "kiln-deb", contentHash: [UInt8](repeating: 1, count: 32), name: "libfoo-1:2.3~rc1")
        XCTAssertEqual(p.name, "libfoo-1_2.3_rc1")
        XCTAssertEqual(p.hashPart.count, 32)
    }
}
