import XCTest
import Foundation
import KilnPackages

final class DebianVersionTests: XCTestCase {
    func testOrderingFollowsDpkg() {
        let ordered = ["1.0~rc1", "1.0", "1.0-1", "1.0-1+b1", "1.0a", "1.0.1", "1:0.9", "2:0"]
        for (a, b) in zip(ordered, ordered.dropFirst()) {
            XCTAssertLessThan(DebianVersion(a), DebianVersion(b), "\(a) < \(b)")
        }
        XCTAssertEqual(DebianVersion("1.02"), DebianVersion("1.2"))
        XCTAssertLessThan(DebianVersion("252.30-1~deb12u2"), DebianVersion("252.30-1"))
    }
}

final class ResolverTests: XCTestCase {
    private func index(_ text: String) -> PackageIndex {
        var i = PackageIndex()
        i.add(packagesFile: Data(text.utf8), architecture: "amd64")
        return i
    }

    private let sample = """
        Package: app
        Version: 1.0
        Architecture: amd64
        Depends: libfoo (>= 2), mta | exim4, initramfs-tools | linux-initramfs-tool
        Filename: pool/a/app.deb
        SHA256: 01
        Size: 10

        Package: libfoo
        Version: 1.5
        Architecture: amd64
        Filename: pool/l/libfoo1.deb
        SHA256: 02

        Package: libfoo
        Version: 2.1
        Architecture: amd64
        Depends: libc6:any
        Filename: pool/l/libfoo2.deb
        SHA256: 03
        Description: a library
         with a continuation line

        Package: libc6
        Version: 2.36
        Architecture: amd64
        Filename: pool/l/libc6.deb
        SHA256: 04

        Package: postfix
        Version: 3.7
        Architecture: amd64
        Provides: mta
        Filename: pool/p/postfix.deb
        SHA256: 05

        Package: armonly
        Version: 1
        Architecture: arm64
        Filename: pool/a/armonly.deb
        SHA256: 06

        """

    func testResolvesConstraintsProvidesAndExclusions() throws {
        let closure = try Resolver(index: index(sample)).resolve([PackageRequest(name: "app", requestedBy: "test")])
        XCTAssertEqual(closure.map(\.name), ["app", "libc6", "libfoo", "postfix"])
        XCTAssertEqual(closure.first { $0.name == "libfoo" }?.version.text, "2.1")
    }

    func testUnknownPackageNamesPackageAndRequester() {
        XCTAssertThrowsError(try Resolver(index: index(sample)).resolve([PackageRequest(name: "libfooo", requestedBy: "option environment.systemPackages in p.nix")])) { error in
            let text = (error as? ResolveError)?.userMessage ?? ""
            XCTAssertTrue(text.contains("'libfooo'"), text)
            XCTAssertTrue(text.contains("environment.systemPackages in p.nix"), text)
            XCTAssertTrue(text.contains("did you mean 'libfoo'"), text)
        }
        XCTAssertThrowsError(try Resolver(index: index(sample)).resolve([PackageRequest(name: "armonly", requestedBy: "x")]))
    }

    func testLockRecordsDependencyEdgesAndClosure() throws {
        let closure = try Resolver(index: index(sample)).resolve([PackageRequest(name: "app", requestedBy: "test")])
        let lock = LockFile(architecture: "amd64", roots: ["app"], closure: closure)
        XCTAssertEqual(lock.packages.first { $0.name == "app" }?.depends, ["libfoo", "postfix"])
        XCTAssertEqual(lock.closure(of: ["libfoo"]).map(\.name), ["libc6", "libfoo"])
        let decoded = try JSONDecoder().decode(LockFile.self, from: lock.encoded())
        XCTAssertEqual(decoded, lock)
    }
}
