import CVerdictKernels
import XCTest
@testable import VerdictTensor

/// The kernels report failure instead of leaving garbage: a forced scratch allocation failure and
/// arguments that do not fit return an error and leave the output as it was.
final class KernelFailureTests: XCTestCase {
    override func tearDown() { Kernels.failScratchAllocations(false) }

    func testAScratchAllocationFailureIsReportedAndTheOutputLeftUntouched() {
        let n = 64
        let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 2, count: n * n)
        var c = [Float](repeating: -7, count: n * n)
        for path in KernelPath.available {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            Kernels.failScratchAllocations(true)
            let gemm = vk_sgemm(0, 1, n, n, n, 1, a, n, b, n, 0, &c, n)
            let attention = vk_attention(a, 16, a, 16, b, 16, &c, 16, 16, 16, 0.25, 0, -1)
            Kernels.failScratchAllocations(false)
            XCTAssertEqual(gemm, Int32(VK_ERROR_MEMORY), "\(path)")
            XCTAssertEqual(attention, Int32(VK_ERROR_MEMORY), "\(path)")
            XCTAssertEqual(Set(c), [-7], "\(path): the output was written although the kernel failed")
            XCTAssertEqual(Kernels.failure(gemm), "no memory for its scratch buffer")
            // With memory, the same call succeeds and computes.
            XCTAssertEqual(vk_sgemm(0, 1, n, n, n, 1, a, n, b, n, 0, &c, n), Int32(VK_OK))
            XCTAssertEqual(Set(c), [Float(2 * n)], "\(path)")
            c = [Float](repeating: -7, count: n * n)
        }
    }

    func testArgumentsThatDoNotFitAreReported() {
        let packed = [Float](repeating: 0, count: vk_packed_b_count(32, 8))
        let a = [Float](repeating: 1, count: 8 * 8)
        var c = [Float](repeating: -7, count: 64)
        // A column offset that is not a whole panel, and one past the packed columns.
        XCTAssertEqual(vk_sgemm_packed(0, 2, 8, 8, 1, a, 8, packed, 32, 3, vk_pack_depth(), 0, nil, &c, 8), Int32(VK_ERROR_ARGUMENT))
        XCTAssertEqual(vk_sgemm_packed(0, 2, 32, 8, 1, a, 8, packed, 32, 16, vk_pack_depth(), 0, nil, &c, 8), Int32(VK_ERROR_ARGUMENT))
        XCTAssertEqual(vk_sgemm(0, 0, -1, 8, 8, 1, a, 8, a, 8, 0, &c, 8), Int32(VK_ERROR_ARGUMENT))
        // Query rows outside the keys.
        XCTAssertEqual(vk_attention_queries(a, 8, 2, 7, a, 8, a, 8, &c, 8, 8, 8, 1, 0, -1), Int32(VK_ERROR_ARGUMENT))
        // int8: a weight outside ±63 cannot be packed.
        var q = [Int8](repeating: 64, count: 16 * 4), sums = [Int32](repeating: 0, count: 16)
        var out = [Int8](repeating: 0, count: vk_qpacked_b_bytes(16, 4))
        XCTAssertEqual(vk_qpack_b(16, 4, &q, &out, &sums), Int32(VK_ERROR_ARGUMENT))
        XCTAssertEqual(Set(c), [-7])
        XCTAssertEqual(Kernels.failure(Int32(VK_ERROR_ARGUMENT)), "sizes or offsets that do not fit the buffers")
    }
}
