import Dispatch
import Foundation

/// Maps `body` over `items` on all cores, keeping the order. Work is split into contiguous chunks.
func parallelMap<T: Sendable, R>(_ items: [T], minimumChunk: Int = 64, _ body: @Sendable (T) -> R) -> [R] {
    let n = items.count
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if n < minimumChunk * 2 || cores < 2 { return items.map(body) }
    let chunks = min(cores * 4, (n + minimumChunk - 1) / minimumChunk)
    return [R](unsafeUninitializedCapacity: n) { buffer, count in
        let output = ChunkOutput(base: buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * n / chunks, hi = (c + 1) * n / chunks
            for i in lo..<hi { (output.base + i).initialize(to: body(items[i])) }
        }
        count = n
    }
}

/// The output buffer shared by the chunks of `parallelMap`. Unchecked: each index is written by
/// exactly one chunk, and `concurrentPerform` returns only after every chunk has finished.
private struct ChunkOutput<R>: @unchecked Sendable {
    let base: UnsafeMutablePointer<R>
}
