import KilnPlan
import KilnSupport
import XCTest

/// `kiln build`'s choice of format: --format, the output's extension, the machine's
/// `image.formats` (a cloud preset's), in that order of say.
final class OutputFormatTests: XCTestCase {
    func testWithoutPresetTheNameOrFlagDecides() throws {
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "disk.qcow2", accepted: []), .qcow2)
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "disk", accepted: []), .raw)
        XCTAssertEqual(try OutputFormat.choose(explicit: .vmdk, output: "disk.raw", accepted: []), .vmdk)
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "out.d/image.tar.gz", accepted: []), .gce)
    }

    func testPresetGivesItsUsualFormatToANameThatSaysNone() throws {
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "image", accepted: [.gce]), .gce)
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "dir.v2/server", accepted: [.vhd]), .vhd)
    }

    func testPresetTakesAnotherOfItsFormatsByName() throws {
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "x.raw", accepted: [.raw, .vhd]), .raw)
        XCTAssertEqual(try OutputFormat.choose(explicit: nil, output: "x.vhd", accepted: [.raw, .vhd]), .vhd)
        XCTAssertEqual(try OutputFormat.choose(explicit: .vhd, output: "x", accepted: [.raw, .vhd]), .vhd)
    }

    func testPresetRefusesAFormatItsCloudCannotImport() {
        XCTAssertThrowsError(try OutputFormat.choose(explicit: nil, output: "x.raw", accepted: [.gce])) { error in
            let text = (error as? KilnError)?.description ?? "\(error)"
            XCTAssertTrue(text.contains("image.formats: gce"), text)
            XCTAssertTrue(text.contains("*.tar.gz"), text)
        }
        XCTAssertThrowsError(try OutputFormat.choose(explicit: .qcow2, output: "x", accepted: [.vhd]))
    }
}
