import XCTest
import Foundation
import KilnPackages
import KilnSupport

/// A cache folder that cannot be made is reported with the folder, the system's reason and
/// the setting to change, never with Foundation's "The file doesn't exist."
final class CacheFolderTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kiln-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        unsetenv("KILN_CACHE_DIR")
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func text(_ body: () throws -> Void) -> String {
        do { try body() } catch { return error.kilnMessage }
        XCTFail("expected an error")
        return ""
    }

    func testACacheFolderThatCannotBeMadeSaysWhichWhyAndWhatToDo() throws {
        setenv("KILN_CACHE_DIR", "/proc/kiln-cache", 1)
        XCTAssertEqual(text { try KilnPaths.createCacheFolder(KilnPaths.cacheDirectory) }, """
            cannot create Kiln's cache '/proc/kiln-cache': No such file or directory
            hint: KILN_CACHE_DIR is '/proc/kiln-cache'; set it to a folder you can create and write to, or unset it to use ~/.cache/kiln
            """)
        // The same from the package cache, which used to guess "Permission denied".
        XCTAssertTrue(text { try APTSource(cacheDirectory: KilnPaths.cacheDirectory, architecture: "amd64").update() }
            .hasPrefix("cannot create Kiln's cache '/proc/kiln-cache': No such file or directory\nhint: KILN_CACHE_DIR"))

        // A file where a folder should be, above the cache and inside it.
        FileManager.default.createFile(atPath: dir + "/file", contents: Data())
        setenv("KILN_CACHE_DIR", dir + "/file/cache", 1)
        XCTAssertTrue(text { try KilnPaths.createCacheFolder(KilnPaths.cacheDirectory) }
            .hasPrefix("cannot create Kiln's cache '\(dir)/file/cache': '\(dir)/file' is a file, not a folder\n"))
        FileManager.default.createFile(atPath: dir + "/store", contents: Data())
        XCTAssertEqual(text { try KilnPaths.createCacheFolder(dir + "/store/.locks", cache: dir) },
                       "cannot create '\(dir)/store' in Kiln's cache '\(dir)': '\(dir)/store' is a file, not a folder")
        XCTAssertNoThrow(try KilnPaths.createCacheFolder(dir + "/a/b/c", cache: dir))
        XCTAssertNoThrow(try KilnPaths.createCacheFolder(dir + "/a/b/c", cache: dir))
        // A relative cache is named as given.
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        XCTAssertEqual(text { try KilnPaths.createCacheFolder("file/cache", cache: "file/cache") },
                       "cannot create Kiln's cache 'file/cache': 'file' is a file, not a folder")
        XCTAssertNoThrow(try KilnPaths.createCacheFolder("rel/cache", cache: "rel/cache"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/rel/cache"))
    }

    func testFoundationFileErrorsGiveTheSystemsReason() {
        // What FileManager throws on Linux for mkdir in /proc: a Cocoa code, no errno.
        let e = NSError(domain: NSCocoaErrorDomain, code: NSFileNoSuchFileError, userInfo: [NSFilePathErrorKey: "/proc/x"])
        XCTAssertEqual(e.kilnMessage, "'/proc/x': No such file or directory")
        XCTAssertEqual(KilnError.file("cannot delete '/x'", NSError(domain: NSCocoaErrorDomain, code: NSFileWriteNoPermissionError)).message,
                       "cannot delete '/x': Permission denied")
        XCTAssertEqual(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)).posixCode, ENOSPC)
    }
}
