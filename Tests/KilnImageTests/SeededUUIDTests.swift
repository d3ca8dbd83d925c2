import XCTest
@testable import KilnImage

final class SeededUUIDTests: XCTestCase {
    func testHMACKnownAnswer() {
        // RFC 4231 test case 2.
        let mac = hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(mac.map { String(format: "%02x", $0) }.joined(),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(SHA256.hash([]).map { String(format: "%02x", $0) }.joined(),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testVersionBitsAndStability() {
        let u = SeededUUID.make(seed: Array("seed".utf8), purpose: "disk")
        XCTAssertEqual(u.count, 16)
        XCTAssertEqual(u[6] >> 4, 4)
        XCTAssertEqual(u[8] >> 6, 2)
        XCTAssertEqual(u, SeededUUID.make(seed: Array("seed".utf8), purpose: "disk"))
        XCTAssertNotEqual(u, SeededUUID.make(seed: Array("seed".utf8), purpose: "esp"))
        XCTAssertEqual(SeededUUID.string(u).count, 36)
    }
}

final class ImageSizingTests: XCTestCase {
    func testSizesAreWholeMiBAndRoomy() {
        for (bytes, count) in [(UInt64(0), 0), (600 << 20, 10_000), (5 << 30, 200_000)] {
            let size = ImageSizing.ext4Size(forContentBytes: bytes, entryCount: count)
            XCTAssertEqual(size % (1 << 20), 0)
            XCTAssertGreaterThan(size, bytes + bytes / 5)
            XCTAssertLessThan(size, bytes * 2 + (256 << 20))
        }
    }

    func testGUIDParsing() throws {
        let g = try GUID("4f68bce3-e8cd-4db1-96e7-fbcaf984b709")
        XCTAssertEqual(g, GUID.rootX86_64)
        XCTAssertEqual(g.description, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
        XCTAssertEqual(Array(g.gptBytes.prefix(4)), [0xE3, 0xBC, 0x68, 0x4F])
        XCTAssertThrowsError(try GUID("4f68bce3-e8cd-4db1-96e7"))
        XCTAssertThrowsError(try GUID("zz68bce3-e8cd-4db1-96e7-fbcaf984b709"))
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}
