/// Places tensors with known lifetimes in one buffer so that tensors alive at the same time never overlap
/// and the buffer stays close to the largest set of simultaneously live tensors.
///
/// Greedy by size (largest first), each at the lowest aligned offset that clears every already-placed
/// tensor whose lifetime intersects its own: for a chain of layers this is the two largest live tensors,
/// not the sum of all of them.
public struct ArenaPlanner {
    public struct Request: Sendable, Equatable {
        public let size: Int
        /// First and last step (inclusive) at which the tensor is written or read.
        public let firstStep: Int
        public let lastStep: Int

        public init(size: Int, firstStep: Int, lastStep: Int) {
            self.size = size
            self.firstStep = firstStep
            self.lastStep = lastStep
        }
    }

    public static let alignment = 64

    /// Offsets for each request, and the arena size.
    public static func plan(_ requests: [Request]) -> (offsets: [Int], size: Int) {
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [(offset: Int, end: Int, first: Int, last: Int)] = []
        let order = requests.indices.sorted {
            requests[$0].size != requests[$1].size ? requests[$0].size > requests[$1].size : $0 < $1
        }
        var arenaSize = 0
        for index in order {
            let request = requests[index]
            let size = (request.size + alignment - 1) / alignment * alignment
            let conflicts = placed
                .filter { $0.first <= request.lastStep && request.firstStep <= $0.last }
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts {
                if offset + size <= other.offset { break }
                offset = max(offset, other.end)
            }
            offsets[index] = offset
            placed.append((offset, offset + size, request.firstStep, request.lastStep))
            arenaSize = max(arenaSize, offset + size)
        }
        return (offsets, arenaSize)
    }
}
