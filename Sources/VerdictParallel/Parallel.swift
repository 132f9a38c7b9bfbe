import CVerdictPool
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

    /// `body` over `items` on up to `threadCount` threads, in order: contiguous chunks of at least
    /// `minimumChunk` items (serially for fewer, or from inside another parallel loop).
    public static func map<T: Sendable, R>(_ items: [T], minimumChunk: Int = 64, _ body: @Sendable (T) -> R) -> [R] {
        let n = items.count
        if n < minimumChunk * 2 || threadCount < 2 { return items.map(body) }
        let chunks = min(threadCount * 4, (n + minimumChunk - 1) / minimumChunk)
        return [R](unsafeUninitializedCapacity: n) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            let output = ChunkOutput(base: base)
            forEach(chunks) { c in
                let lo = c * n / chunks, hi = (c + 1) * n / chunks
                for i in lo..<hi { (output.base + i).initialize(to: body(items[i])) }
            }
            count = n
        }
    }

    /// The output buffer shared by the chunks of `map`. Unchecked: each index is written by
    /// exactly one chunk, and `forEach` returns only after every chunk has finished.
    private struct ChunkOutput<R>: @unchecked Sendable {
        let base: UnsafeMutablePointer<R>
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
