import Foundation
import XCTest

/// `verdict --version` and `verdict env`: what a bug report needs, exit 0.
final class EnvAndVersionTests: XCTestCase {
    func testVersion() throws {
        let r = try CLI.run(["--version"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("0."), r.out)
        XCTAssertTrue(r.out.contains("commit"), r.out)
    }

    func testEnvNamesTheCPUPathAndTheDefaultModel() throws {
        let r = try CLI.run(["env"])
        XCTAssertEqual(r.status, 0, r.err)
        for key in ["verdict:", "os:", "cpu:", "cpu features:", "kernel path:", "threads:", "default model:", "hugging face cache:"] {
            XCTAssertTrue(r.out.contains(key), "missing \(key) in\n\(r.out)")
        }
        XCTAssertTrue(r.out.contains("_VerdictDefaultModel.resources/default-sentiment"), r.out)
        #if arch(x86_64)
        XCTAssertTrue(["kernel path: avx512", "kernel path: avx2+fma", "kernel path: portable"].contains { r.out.contains($0) }, r.out)
        #endif
    }
}
