import CVerdictKernels
import Foundation

/// The cores Verdict's kernels use: all active cores, or `VERDICT_NUM_THREADS` when set.
///
/// There is one level of parallelism: a parallel region never starts another one (kernels called
/// inside `Parallel.forEach` are told to use one thread).
public enum Parallel {
    /// Number of worker threads.
    public static let threadCount: Int = {
        if let s = ProcessInfo.processInfo.environment["VERDICT_NUM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(i)` for `i` in `0..<count` on up to `threadCount` threads of a persistent pool
    /// (`vk_parallel_for`: workers stay awake briefly between loops, so the many short loops of a
    /// forward pass do not each pay for waking a thread). Indices are handed out dynamically.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 { for i in 0..<count { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            let box = LoopBody(body)
            withExtendedLifetime(box) {
                vk_parallel_for(Int32(threadCount), count, { context, index in
                    guard let context else { return }
                    Unmanaged<LoopBody>.fromOpaque(context).takeUnretainedValue().body(index)
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
    }

    private final class LoopBody {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks (multiples of `granularity`)
    /// and runs `body` on each in parallel.
    public static func chunks(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let units = (count + granularity - 1) / granularity
        let parts = min(threadCount, units)
        if parts <= 1 { body(0..<count); return }
        forEach(parts) { p in
            let lo = min(count, p * units / parts * granularity), hi = min(count, (p + 1) * units / parts * granularity)
            if lo < hi { body(lo..<hi) }
        }
    }
}
