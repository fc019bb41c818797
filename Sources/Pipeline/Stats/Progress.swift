import Foundation

/// Prints progress while a job runs: a bar redrawn in place on a terminal, a plain line every few seconds
/// otherwise (logs, CI).
final class ProgressPrinter: @unchecked Sendable {
    private let read: () -> (done: Int, failed: Int, total: Int)
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var thread: Thread?
    private let stopped = NSCondition()
    private var stopping = false

    init(_ read: @escaping () -> (done: Int, failed: Int, total: Int)) {
        self.read = read
    }

    func start(label: String) {
        let interval = interactive ? 0.25 : 5.0
        let thread = Thread { [self] in
            stopped.lock()
            while !stopping {
                _ = stopped.wait(until: Date().addingTimeInterval(interval))
                if !stopping { draw(label, final: false) }
            }
            stopped.unlock()
        }
        thread.name = "progress"
        self.thread = thread
        thread.start()
    }

    func stop(label: String) {
        stopped.lock()
        stopping = true
        stopped.broadcast()
        stopped.unlock()
        draw(label, final: true)
    }

    private func draw(_ label: String, final: Bool) {
        let (done, failed, total) = read()
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 && total > done ? String(format: "%.0f s", Double(total - done) / rate) : "-"
        let percent = total > 0 ? Double(done) / Double(total) : 0
        let counts = "\(done)/\(total) images" + (failed > 0 ? " (\(failed) failed)" : "") + String(format: ", %.1f images/s, ETA %@", rate, eta)
        if interactive {
            let width = 30
            let filled = Int(percent * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) \(bar) \(String(format: "%3.0f%%", percent * 100)) \(counts)\u{1B}[K\(final ? "\n" : "")".utf8))
        } else if final || done > 0 {
            FileHandle.standardError.write(Data("\(label): \(counts)\n".utf8))
        }
    }
}
