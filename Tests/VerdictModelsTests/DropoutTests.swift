import XCTest
@testable import VerdictModels
import VerdictTensor

/// Dropout masks are drawn in parallel pieces; they must be the generator's draws one after
/// another, and leave it where drawing them one by one would (runs and resumed runs repeat).
final class DropoutTests: XCTestCase {
    func testMaskIsTheSequentialDrawsAndAdvancesTheGenerator() throws {
        for path in KernelPath.available {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            for count in [0, 1, 7, 16_384, 100_003] {
                var sequential = SplitMix64(seed: 11)
                let want = (0..<count).map { _ in sequential.nextUnitFloat() >= 0.1 ? Float(1) / 0.9 : 0 }
                var rng: SplitMix64? = SplitMix64(seed: 11)
                let mask = try XCTUnwrap(Dropout.mask(count: count, p: 0.1, rng: &rng))
                XCTAssertEqual(mask, want, "count \(count)")
                XCTAssertEqual(rng?.state, sequential.state, "count \(count)")
            }
        }
        var none: SplitMix64? = nil
        XCTAssertNil(Dropout.mask(count: 10, p: 0.1, rng: &none))
    }
}
