import CVerdictKernels

/// The kernels' C entry points as the rest of Verdict calls them: every C call of Verdict goes
/// through VerdictTensor, and every kernel that can fail has its status checked here. The layers
/// call the kernels with sizes they computed, so a failure is either a bug (an argument that does
/// not fit) or the machine out of memory; both stop the process with a message naming the kernel,
/// never a result computed from garbage.
package enum Kernels {
    /// A kernel's report that it did nothing: why, in words.
    package static func failure(_ status: Int32) -> String? {
        switch status {
        case Int32(VK_OK): return nil
        case Int32(VK_ERROR_ARGUMENT): return "sizes or offsets that do not fit the buffers"
        case Int32(VK_ERROR_MEMORY): return "no memory for its scratch buffer"
        default: return "status \(status)"
        }
    }

    /// Stops with `kernel`'s failure unless `status` is `VK_OK`.
    @inline(__always)
    package static func check(_ status: Int32, _ kernel: StaticString) {
        if status != VK_OK { failed(status, kernel) }
    }

    @inline(never)
    static func failed(_ status: Int32, _ kernel: StaticString) -> Never {
        fatalError("Verdict kernel \(kernel) failed: \(failure(status) ?? "") (nothing was computed)")
    }

    /// Makes every scratch request of the kernels fail while `fail` is true (tests of the error reports).
    package static func failScratchAllocations(_ fail: Bool) { vk_fail_scratch_allocations(fail ? 1 : 0) }

    /// An inverted-dropout mask from a SplitMix64 `state` (`vk_dropout_mask`).
    package static func dropoutMask(state: UInt64, count: Int, p: Float, keep: Float, into out: UnsafeMutablePointer<Float>) {
        vk_dropout_mask(state, count, p, keep, out)
    }

    /// One AdamW step over `count` parameters (`vk_adamw`, torch.optim.AdamW's arithmetic).
    package static func adamw(parameters: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                              gradients: UnsafePointer<Float>, count: Int, decay: Float, beta1: Float, beta2: Float,
                              stepSize: Float, bc2Sqrt: Float, eps: Float) {
        vk_adamw(parameters, m, v, gradients, count, decay, beta1, beta2, stepSize, bc2Sqrt, eps)
    }

    /// `x[i] *= factor`.
    package static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) { vk_scale(x, count, factor) }

    /// Σ x², in double precision.
    package static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double { vk_sum_squares(x, count) }

    /// Half-precision bits to floats, exactly.
    package static func float16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) { vk_f16_to_f32(src, dst, count) }

    /// bfloat16 bits to floats, exactly.
    package static func bfloat16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) { vk_bf16_to_f32(src, dst, count) }

    /// Floats to half precision, rounded to nearest even.
    package static func floatToFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) { vk_f32_to_f16(src, dst, count) }

    /// Floats to bfloat16, rounded to nearest even.
    package static func floatToBFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) { vk_f32_to_bf16(src, dst, count) }
}
