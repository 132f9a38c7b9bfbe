import Foundation

/// Reports the progress of long work: a redrawn bar on a terminal, plain log lines otherwise.
public final class ProgressReporter: @unchecked Sendable {
    let total: Int
    let label: String
    let start = Date()
    let isTerminal = isatty(STDERR_FILENO) != 0
    var lastPrint = Date.distantPast

    public init(total: Int, label: String) { self.total = total; self.label = label }

    /// Reports that `done` of `total` units are finished; `detail` is appended (loss, lr, …).
    public func update(_ done: Int, detail: String = "", force: Bool = false) {
        let now = Date()
        let interval: TimeInterval = isTerminal ? 0.2 : 30
        guard force || done == total || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let timing = String(format: "%.2f it/s, elapsed %@, ETA %@", rate, Self.clock(elapsed), Self.clock(eta))
        if isTerminal {
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total) \(timing) \(detail)\u{1B}[K".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) (\(Int(fraction * 100))%) \(timing) \(detail)\n".utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? seconds : 0)
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}
