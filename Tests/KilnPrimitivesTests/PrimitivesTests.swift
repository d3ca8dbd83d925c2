import XCTest
import KilnPrimitives

final class PrimitivesTests: XCTestCase {
    func testHexRoundTrips() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa5, 0xff]), "000fa5ff")
        XCTAssertEqual(Hex.decode("000FA5ff"), [0x00, 0x0f, 0xa5, 0xff])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }

    func testBase32MatchesNixHash() {
        // nix-hash --type sha256 --to-base32 $(echo -n hello | sha256sum)
        let digest = Digest.sha256("hello")
        XCTAssertEqual(NixBase32.encode(digest), "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic")
        XCTAssertEqual(NixBase32.decode("094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic"), digest)
        XCTAssertNil(NixBase32.decode("e"))
    }

    func testStorePathMatchesNixToFile() {
        // nix-instantiate --eval -E 'builtins.toFile "foo" "bar"'
        XCTAssertEqual(StorePathHash.path(type: "text", hash: Digest.sha256("bar"), name: "foo"),
                       "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo")
    }

    func testHMACKnownAnswer() {
        // RFC 4231 test case 2.
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(Hex.encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Hex.encode(Digest.sha256([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testSeededUUIDIsStableWithVersionBits() {
        let u = SeededUUID.make(seed: Array("seed".utf8), purpose: "disk")
        // HMAC-SHA256("seed", "disk"), first 16 bytes, version 4 and RFC 4122 variant bits:
        // images built before and after any refactoring must get the same GUIDs.
        XCTAssertEqual(SeededUUID.string(u), "7f0680c5-7aa2-493a-b8f6-e3c3fbbd9ab1")
        XCTAssertEqual(u[6] >> 4, 4)
        XCTAssertEqual(u[8] >> 6, 2)
        XCTAssertNotEqual(u, SeededUUID.make(seed: Array("seed".utf8), purpose: "esp"))
        XCTAssertEqual(SeededUUID.bytes("7F0680C5-7aa2-493a-b8f6-e3c3fbbd9ab1"), u)
        XCTAssertNil(SeededUUID.bytes("7f0680c5-7aa2-493a-b8f6"))
    }
}
