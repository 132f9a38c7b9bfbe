import Dispatch
import Synchronization
import Verdict

/// The arithmetic a classification pass stands for, and the machine's ceiling for it: what
/// `bench-classify` and `bench-kernels` report throughput against (docs/Performance.md).
enum ForwardWork {
    /// FLOPs (two per multiply-add) of a full encoder forward pass over texts of `lengths`
    /// tokens, counted as BERT layers: per token and layer the four attention projections and
    /// the two feed-forward matrices, 2·(4·d² + 2·d·ff), and attention's scores and weighted
    /// values, 4·n·d for a token of an n-token text. This is the work every engine does for the
    /// texts; Verdict's shortcut on a classifier's last layer (pooled rows only) is not subtracted,
    /// so a share of the peak computed from it compares engines, not kernels.
    static func flops(lengths: [Int], config: ModelConfig) -> Double {
        let d = Double(config.hiddenSize), ff = Double(config.intermediateSize), layers = Double(config.numHiddenLayers)
        let dense = 2 * (4 * d * d + 2 * d * ff)
        return layers * lengths.reduce(0.0) { total, n in total + Double(n) * (dense + 4 * Double(n) * d) }
    }

    /// Operations per second (in billions) of the kernel path's peak loop run on `threads`
    /// threads at once, best of 3: fp32 FMA chains, or with `int8` the int8 multiply's dot products.
    static func measuredPeak(int8: Bool, threads: Int) -> Double {
        let iterations = 20_000_000
        var rate = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let total = Mutex(0.0)
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                let operations = runPeakLoop(int8: int8, iterations: iterations)
                total.withLock { $0 += operations }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rate = max(rate, total.withLock { $0 } / seconds / 1e9)
        }
        return rate
    }
}
