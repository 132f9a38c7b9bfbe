import Foundation

/// Reports the progress of long work (downloads, tokenizing a dataset, training, evaluation): a
/// bar redrawn in place when standard error is a terminal, plain log lines otherwise.
///
/// Safe to call from several threads at once (a parallel `map` reports from each worker).
/// Unchecked Sendable: all state is read and written under its lock.
public final class ProgressReporter: @unchecked Sendable {
    /// What the counted units are; bytes are printed as sizes.
    public enum Unit: Sendable { case items, bytes }

    let total: Int
    let label: String
    let unit: Unit
    let start = Date()
    let isTerminal = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    private var lastPrint = Date.distantPast
    private var completed = 0
    private var finished = false

    /// `total` units are expected (0 when unknown, for a download without a length).
    public init(total: Int, label: String, unit: Unit = .items) {
        self.total = total; self.label = label; self.unit = unit
    }

    /// Reports that `done` of `total` units are finished; `detail` is appended (loss, lr, …).
    public func update(_ done: Int, detail: String = "", force: Bool = false) {
        lock.withLock {
            completed = done
            draw(detail: detail, force: force)
        }
    }

    /// Adds `count` finished units (for workers that each know only their own share).
    public func advance(by count: Int, detail: String = "") {
        lock.withLock {
            completed += count
            draw(detail: detail, force: false)
        }
    }

    private func draw(detail: String, force: Bool) {
        let now = Date()
        let done = completed
        let isLast = total > 0 && done >= total
        guard !finished, force || isLast || now.timeIntervalSince(lastPrint) >= (isTerminal ? 0.2 : 30) else { return }
        lastPrint = now
        finished = isLast
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 && total > 0 ? Double(total - done) / rate : 0
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let counts: String, speed: String
        switch unit {
        case .items:
            counts = total > 0 ? "\(done)/\(total)" : "\(done)"
            speed = String(format: "%.2f it/s", rate)
        case .bytes:
            counts = total > 0 ? "\(Self.size(done))/\(Self.size(total))" : Self.size(done)
            speed = Self.size(Int(rate)) + "/s"
        }
        let timing = "\(speed), elapsed \(Self.clock(elapsed)), ETA \(Self.clock(eta))"
        let suffix = detail.isEmpty ? "" : " " + detail
        if isTerminal {
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) \(bar) \(counts) \(timing)\(suffix)\u{1B}[K".utf8))
            if isLast { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let percent = total > 0 ? " (\(Int(fraction * 100))%)" : ""
            FileHandle.standardError.write(Data("\(label): \(counts)\(percent) \(timing)\(suffix)\n".utf8))
        }
    }

    /// Ends a bar whose total was not reached (an error, or an unknown total).
    public func finish() {
        lock.withLock {
            guard !finished else { return }
            finished = true
            if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? seconds : 0)
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }

    static func size(_ bytes: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)
    }
}
