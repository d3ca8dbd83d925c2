import XCTest
import Foundation
@testable import KilnBuild
import KilnPlan
import KilnSupport

/// What counts as a refused file. The real checkers on real files run in the bad-input suite
/// (profile-sudoers-refused, profile-sshd-refused) and in every image build; here, only the
/// line between sshd's complaints about the file and about the build host, which the host of
/// the suite cannot be made to show both of.
final class ConfigChecksTests: XCTestCase {
    private func checker(_ etcPath: String) throws -> ConfigChecks.Checker {
        try XCTUnwrap(ConfigChecks.checkers.first { $0.etcPath == etcPath })
    }

    private func output(_ status: Int32, _ stderr: String) -> ToolOutput {
        ToolOutput(status: status, stdout: Data(), stderr: Data(stderr.utf8))
    }

    func testSshdRefusesOnlyForTheFile() throws {
        let sshd = try checker("ssh/sshd_config")
        let file = "/tmp/kiln-check-1/ssh_sshd_config"
        XCTAssertTrue(sshd.failed(output(255, "\(file): line 17: Bad configuration option: PermitRootLogni\n\(file): terminating, 1 bad configuration options\n"), file))
        // An ordinary user on a host without sshd's account or host keys: the file was parsed.
        XCTAssertFalse(sshd.failed(output(255, "Privilege separation user sshd does not exist\n"), file))
        XCTAssertFalse(sshd.failed(output(1, "sshd: no hostkeys available -- exiting.\n"), file))
        XCTAssertFalse(sshd.failed(output(0, ""), file))
    }

    func testVisudoRefusesOnItsStatus() throws {
        let visudo = try checker("sudoers")
        XCTAssertTrue(visudo.failed(output(1, "/tmp/x:1:12: syntax error\n"), "/tmp/x"))
        XCTAssertFalse(visudo.failed(output(0, "/tmp/x: parsed OK\n"), "/tmp/x"))
    }

    func testOnlyTheHostsArchitectureIsChecked() {
        #if arch(x86_64)
        XCTAssertEqual(Architecture.host, .x86_64)
        #endif
        XCTAssertEqual(ConfigChecks.loader(.x86_64), "lib64/ld-linux-x86-64.so.2")
        XCTAssertEqual(ConfigChecks.loader(.aarch64), "lib/ld-linux-aarch64.so.1")
    }
}
