import Foundation

/// Wall time per kind of operation, for `verdict bench-classify --profile`: where a forward pass
/// spends its time. Off by default; when off, measuring costs one branch.
package enum OpProfiler {
    /// The kinds of work a forward pass is split into.
    package enum Kind: String, CaseIterable, Sendable {
        case linearFloat32 = "Linear (fp32 matrix multiply + bias)"
        case linearInt8 = "Linear (int8: quantise rows + multiply + bias)"
        case linearBFloat16 = "Linear (bfloat16 weights, fp32 multiply + bias)"
        case attention = "attention (scores, softmax, weighted values)"
        case norm = "LayerNorm / RMSNorm"
        case activation = "activation (GELU, SiLU, ...)"
        case residual = "residual adds"
        case embeddings = "embeddings"
    }

    /// One row of the report.
    package struct Entry: Sendable {
        package var kind: Kind
        package var calls: Int
        package var seconds: Double
    }

    nonisolated(unsafe) private static var enabled = false
    nonisolated(unsafe) private static var totals: [Kind: (calls: Int, seconds: Double)] = [:]
    private static let lock = NSLock()

    /// Starts (or stops) measuring and clears the totals.
    package static func setEnabled(_ on: Bool) {
        lock.withLock { enabled = on; totals = [:] }
    }

    /// The totals so far, largest first.
    package static var entries: [Entry] {
        lock.withLock { totals.map { Entry(kind: $0.key, calls: $0.value.calls, seconds: $0.value.seconds) }.sorted { $0.seconds > $1.seconds } }
    }

    /// Runs `body`, adding its wall time to `kind` when profiling is on.
    @inline(__always)
    package static func measure<R>(_ kind: Kind, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            lock.withLock {
                let t = totals[kind] ?? (0, 0)
                totals[kind] = (t.calls + 1, t.seconds + seconds)
            }
        }
        return try body()
    }
}
