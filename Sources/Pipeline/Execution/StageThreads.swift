import Foundation

/// The dedicated threads of a strategy's stages (never Swift's cooperative pool: they block), started
/// together and joined together.
final class StageThreads {
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    /// Adds a thread; it starts with `start()`. `group`, when given, is left when the thread ends too.
    func spawn(_ name: String, group: DispatchGroup? = nil, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        group?.enter()
        let thread = Thread { [finished] in
            body()
            group?.leave()
            finished.leave()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        threads.append(thread)
    }

    /// Starts every thread and waits until all have ended.
    func run() {
        threads.forEach { $0.start() }
        finished.wait()
    }
}
