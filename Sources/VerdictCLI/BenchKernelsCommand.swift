import ArgumentParser
import Foundation
import Verdict

/// `verdict bench-kernels`: the matrix multiplies on transformer layer shapes against the
/// machine's measured peak (docs/Performance.md).
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels", abstract: "Time the fp32 and int8 matrix multiplies against the CPU's peak (a benchmark, not a test).", shouldDisplay: false)

    @Option(help: "Rows (tokens) of each multiply.") var tokens = 1024
    @Option(help: "Timed repeats (the best is reported).") var repeats = 5
    @Flag(help: "Time the three multiplies of a Linear's training step instead (forward, input gradient, weight gradient).") var training = false

    /// The `Linear` shapes timed (in, out, label): BERT-base's three first, then MiniLM's.
    private static let layerShapes = [(768, 768, "BERT-base attention projection"), (768, 3072, "BERT-base FFN in"), (3072, 768, "BERT-base FFN out"),
                                      (384, 384, "MiniLM projection"), (384, 1536, "MiniLM FFN in"), (1536, 384, "MiniLM FFN out")]

    func validate() throws {
        guard tokens >= 1, repeats >= 1 else { throw ValidationError("--tokens and --repeats must be at least 1") }
    }

    func run() throws {
        let threads = Parallel.threadCount
        print("kernels: \(KernelInfo.path), \(threads) threads")
        let fp32Peak = ForwardWork.measuredPeak(int8: false, threads: threads), int8Peak = ForwardWork.measuredPeak(int8: true, threads: threads)
        let avx512 = KernelPath.current == .avx512, vnni = KernelInfo.path.contains("vnni")
        let fp32Loop = avx512 ? "zmm FMA loop" : "FMA loop", int8Loop = vnni ? "zmm vpdpbusd loop" : "u8xs8 dot loop"
        print("peak fp32 \(fp32Loop): " + String(format: "%.1f", fp32Peak) + " GFLOP/s; int8 \(int8Loop): "
              + String(format: "%.1f", int8Peak) + " GOP/s (\(threads) threads, one loop per thread)")
        var generator = SystemRandomNumberGenerator()
        if training { return benchTraining(peak: fp32Peak, generator: &generator) }
        print("| shape (tokens x in -> out) | fp32 GFLOP/s | % of fp32 peak | int8 GOP/s | % of int8 peak | int8 / fp32 |")
        print("| --- | --- | --- | --- | --- | --- |")
        for (inFeatures, outFeatures, label) in Self.layerShapes {
            let x = Tensor(shape: [tokens, inFeatures], scalars: (0..<(tokens * inFeatures)).map { _ in Float.random(in: -2...2, using: &generator) })
            let w = Tensor(shape: [outFeatures, inFeatures], scalars: (0..<(outFeatures * inFeatures)).map { _ in Float.random(in: -0.1...0.1, using: &generator) })
            let bias = Tensor(shape: [outFeatures], repeating: 0.01)
            let packed = PackedMatrix(linearWeight: w), quantized = QuantizedMatrix(linearWeight: w)
            let ops = 2 * Double(tokens) * Double(inFeatures) * Double(outFeatures)
            let fp32 = ops / best { _ = Ops.linear(x, packedWeight: packed, bias: bias) } / 1e9
            let int8 = ops / best { _ = Ops.linear(x, quantizedWeight: quantized, bias: bias) } / 1e9
            print(String(format: "| %@: %d x %d -> %d | %.1f | %.0f %% | %.1f | %.0f %% | %.2fx |", label, tokens, inFeatures, outFeatures,
                         fp32, 100 * fp32 / fp32Peak, int8, 100 * int8 / int8Peak, int8 / fp32))
        }
    }

    /// The multiplies of one `Linear` in a training step, weights unpacked (they change every step):
    /// `y = x · Wᵀ + b`, `dx = dy · W`, `dW += dyᵀ · x` (`Ops.linear`, `Ops.linearBackward`).
    private func benchTraining(peak: Double, generator: inout SystemRandomNumberGenerator) {
        print("| shape (tokens x in -> out) | forward GFLOP/s | input gradient GFLOP/s | weight gradient GFLOP/s | all three, % of fp32 peak |")
        print("| --- | --- | --- | --- | --- |")
        for (inFeatures, outFeatures, label) in Self.layerShapes.prefix(3) {
            func random(_ count: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<count).map { _ in Float.random(in: range, using: &generator) } }
            let x = Tensor(shape: [tokens, inFeatures], scalars: random(tokens * inFeatures, -2...2))
            let w = Tensor(shape: [outFeatures, inFeatures], scalars: random(outFeatures * inFeatures, -0.1...0.1))
            let dy = Tensor(shape: [tokens, outFeatures], scalars: random(tokens * outFeatures, -1...1))
            let bias = Tensor(shape: [outFeatures], repeating: 0.01)
            var dW = Tensor(shape: w.shape), dBias: Tensor? = nil
            let ops = 2 * Double(tokens) * Double(inFeatures) * Double(outFeatures)
            let forward = best { _ = Ops.linear(x, weight: w, bias: bias) }
            let inputGradient = best { _ = Ops.linearBackward(dy, input: x, weight: w, dWeight: &dW, dBias: &dBias) }
            let weightGradient = best { Ops.accumulateLinearGradients(dy, input: x, weight: w, dWeight: &dW, dBias: &dBias) }
            let dxOnly = max(inputGradient - weightGradient, 1e-9)
            print(String(format: "| %@: %d x %d -> %d | %.1f | %.1f | %.1f | %.0f %% |", label, tokens, inFeatures, outFeatures,
                         ops / forward / 1e9, ops / dxOnly / 1e9, ops / weightGradient / 1e9, 100 * 3 * ops / (forward + inputGradient) / 1e9 / peak))
        }
    }

    /// Best wall time of `repeats` runs, after one warm-up.
    private func best(_ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}
