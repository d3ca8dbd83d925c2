import XCTest
import KilnPrimitives
import KilnStore
import KilnPackages

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

final class ManifestTests: XCTestCase {
    let sample = Manifest(storePath: "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo-1.0", references: ["/nix/store/b", "/nix/store/a"],
                          origin: DebOrigin(name: "foo", version: "1:1.0~rc1", architecture: "amd64", sha256: String(repeating: "ab", count: 32)),
                          entries: [ManifestEntry(path: "", kind: .directory, mode: 0o755),
                                    ManifestEntry(path: "bin/su", kind: .file, mode: 0o4755, size: 3, sha256: String(repeating: "c", count: 64)),
                                    ManifestEntry(path: "a dir/with\ttab", kind: .directory, mode: 0o700, uid: 1, gid: 2),
                                    ManifestEntry(path: "bin/sh", kind: .symlink, mode: 0o777, target: "dash with space")])

    func testTheTextRoundTripsAndIsCanonical() throws {
        let text = sample.text
        XCTAssertTrue(text.hasPrefix("kiln-manifest 1\npath /nix/store/"))
        XCTAssertTrue(text.contains("\nf 4755 0 0 3 \(String(repeating: "c", count: 64)) bin/su\n"), text)
        XCTAssertTrue(text.contains("\nl 0777 0 0 0 dash\\swith\\sspace bin/sh\n"), text)
        XCTAssertTrue(text.contains("\nref /nix/store/a\nref /nix/store/b\n"), "references sorted")
        let back = try Manifest(parsing: text, source: "t")
        XCTAssertEqual(back.text, text)
        XCTAssertEqual(back.entries, sample.entries)
        XCTAssertEqual(back.origin, sample.origin)
        XCTAssertEqual(back.size, 3)
    }

    func testAnEditedOrCutManifestIsRefused() {
        let edited = sample.text.replacingOccurrences(of: "f 4755", with: "f 4777")
        XCTAssertThrowsError(try Manifest(parsing: edited, source: "m")) { e in
            XCTAssertTrue("\(e)".contains("does not match its hash"), "\(e)")
        }
        XCTAssertThrowsError(try Manifest(parsing: String(sample.text.prefix(80)), source: "m")) { e in
            XCTAssertTrue("\(e)".contains("no end line"), "\(e)")
        }
    }

    func testRegistrationListsEveryPathWithItsManifestsHash() throws {
        let r = Registration([sample])
        XCTAssertEqual(r.entries.first?.hash, sample.hash)
        XCTAssertEqual(try Registration(parsing: r.text, source: "r"), r)
        XCTAssertEqual(StorePath.references(in: Array("x /nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo-1.0/bin/a y".utf8)),
                       ["/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo-1.0"])
    }
}

final class ArchAllStorePathTests: XCTestCase {
    /// An `Architecture: all` .deb is one file for every architecture, but its object refers
    /// to its dependencies' objects, which differ: the two must not share a store path.
    func testArchAllPackagesGetAStorePathPerTargetArchitecture() {
        let p = LockedPackage(name: "perl-modules-5.36", version: "5.36.0-7", architecture: "all", filename: "f", sha256: "ab",
                              size: 1, depends: ["perl-base"])
        var amd = p, arm = p
        amd.target = "amd64"; arm.target = "arm64"
        XCTAssertNotEqual(Store.path(for: amd), Store.path(for: arm))
        // Architecture-specific packages keep theirs: the target adds nothing.
        var native = p
        native.architecture = "amd64"
        var nativeTargeted = native
        nativeTargeted.target = "amd64"
        XCTAssertEqual(Store.path(for: native), Store.path(for: nativeTargeted))
        // A lock read back gives its packages their target.
        let lock = LockFile(architecture: "arm64", roots: ["x"], packages: [p])
        XCTAssertEqual(lock.packages.first?.target, "arm64")
    }
}
