import XCTest
@testable import KilnImage
import KilnPrimitives
import KilnPlan

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
        XCTAssertEqual(g, try GUID(Architecture.x86_64.rootPartitionType))
        XCTAssertEqual(g.description, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
        XCTAssertEqual(Array(g.gptBytes.prefix(4)), [0xE3, 0xBC, 0x68, 0x4F])
        XCTAssertThrowsError(try GUID("4f68bce3-e8cd-4db1-96e7"))
        XCTAssertThrowsError(try GUID("zz68bce3-e8cd-4db1-96e7-fbcaf984b709"))
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}
