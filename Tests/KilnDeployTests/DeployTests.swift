import Foundation
import XCTest
import KilnStore
import KilnSupport
@testable import KilnDeploy

final class DeployTests: XCTestCase {
    func testTargetHostsAreParsedAsSSHNamesThem() throws {
        let a = try TargetHost("root@10.0.0.5:2222", options: [])
        XCTAssertEqual(a.user, "root"); XCTAssertEqual(a.host, "10.0.0.5"); XCTAssertEqual(a.port, 2222)
        XCTAssertEqual(a.sshArguments.suffix(3), ["-p", "2222", "root@10.0.0.5"])
        let b = try TargetHost("[fe80::1]:22", options: ["-i", "k"])
        XCTAssertEqual(b.host, "fe80::1"); XCTAssertEqual(b.port, 22); XCTAssertNil(b.user)
        XCTAssertEqual(b.description, "[fe80::1]:22")
        XCTAssertEqual(try TargetHost("fe80::1", options: []).host, "fe80::1", "a bare IPv6 address has no port")
        XCTAssertEqual(try TargetHost("web", options: []).sshArguments.last, "web")
        for bad in ["root@", "", "h:port", "h:70000", "-oProxyCommand=x"] {
            XCTAssertThrowsError(try TargetHost(bad, options: []), bad) { e in XCTAssertTrue("\(e)".contains("--target-host"), "\(e)") }
        }
    }

    func testSSHFailuresSayHowToFixThem() {
        let h = try? TargetHost("root@m:2200", options: [])
        XCTAssertTrue(h?.sshFailure("Host key verification failed.").hint?.contains("ssh-keyscan -p 2200 m") == true)
        XCTAssertTrue(h?.sshFailure("ssh: connect to host m port 2200: Connection refused").message.contains("refused") == true)
        XCTAssertTrue(h?.sshFailure("root@m: Permission denied (publickey).").hint?.contains("authorizedKeys") == true)
    }

    func testTheMachinesAnswerIsRead() throws {
        let text = """
            arch aarch64
            uid 0
            current 2
            generations 1 2 
            root 1b4e28ba-2fa1-41d2-883f-0016d3cca427
            esp 0a1b2c3d-0000-4000-8000-000000000001
            receiver yes
            free 1024
            --- registration
            kiln-registration 1
            /nix/store/aaaa-bash 0123 10 -
            --- passwd
            root:x:0:0::/root:/bin/bash
            alice:x:1000:100::/home/alice:/bin/bash
            --- group
            root:x:0:
            """
        let f = try MachineFacts(parsing: text, host: TargetHost("m", options: []))
        XCTAssertEqual(f.architecture, "aarch64")
        XCTAssertEqual(f.generations, [1, 2]); XCTAssertEqual(f.current, 2)
        XCTAssertEqual(f.espPartitionUUID, "0a1b2c3d-0000-4000-8000-000000000001")
        XCTAssertEqual(f.freeBytes, 1 << 20)
        XCTAssertEqual(f.registered, ["/nix/store/aaaa-bash"])
        XCTAssertEqual(f.accounts.uids["alice"], 1000)
        XCTAssertTrue(f.hasReceiver)
        XCTAssertTrue(f.isRoot)
        let asUser = try MachineFacts(parsing: text.replacingOccurrences(of: "uid 0", with: "uid 1000"), host: TargetHost("alice@m", options: []))
        XCTAssertFalse(asUser.isRoot)
        XCTAssertThrowsError(try MachineFacts(parsing: "arch x86_64\n", host: TargetHost("m", options: []))) { e in
            XCTAssertTrue("\(e)".contains("does not look like a Kiln machine"), "\(e)")
        }
    }

    func testTheStreamHoldsThePathsWithTheirOwnersModesAndManifests() throws {
        let dir = NSTemporaryDirectory() + "kiln-stream-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/src"
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data("hello\n".utf8)))
        let nodes = [
            FileNode(path: "/nix/store/aaaa-x", kind: .directory, mode: 0o755),
            FileNode(path: "/nix/store/aaaa-x/bin", kind: .directory, mode: 0o755),
            FileNode(path: "/nix/store/aaaa-x/bin/su", kind: .file(source: source), mode: 0o4755, uid: 0, gid: 0),
            FileNode(path: "/nix/store/aaaa-x/etc", kind: .data(Array("e".utf8)), mode: 0o640, uid: 0, gid: 42),
            FileNode(path: "/nix/store/aaaa-x/l", kind: .symlink(target: "/nix/store/bbbb-y/z"), mode: 0o777),
        ]
        let manifest = Manifest(storePath: "/nix/store/aaaa-x", references: [], entries: [])
        let tar = dir + "/s.tar"
        let fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var sent: Int64 = 0
        try ClosureStream.write(nodes: nodes, manifests: [manifest], to: fd) { sent = $0 }
        close(fd)
        XCTAssertEqual(sent, 6 + 1 + Int64(manifest.text.utf8.count))
        let listing = try Tool.run(["tar", "-tvf", tar, "--numeric-owner"]).stdoutText
        XCTAssertTrue(listing.contains("-rwsr-xr-x 0/0") && listing.contains("aaaa-x/bin/su"), listing)
        XCTAssertTrue(listing.contains("-rw-r----- 0/42"), listing)
        XCTAssertTrue(listing.contains("aaaa-x/l -> /nix/store/bbbb-y/z"), listing)
        XCTAssertTrue(listing.contains(".manifests/aaaa-x"), listing)
        XCTAssertTrue(listing.contains("1970-01-01"), "every date is the store's: \(listing)")
    }
}
