import Testing
import SluiceTestSupport
@testable import Inference

struct ArenaPlannerTests {
    /// A chain a → b → c → d: each tensor is alive with its neighbours only, so the arena is the largest
    /// pair of neighbours (a + b), not the sum of all four.
    @Test func chainUsesTwoLargestNeighbours() {
        let sizes = [640, 1280, 320, 1280]
        let requests = sizes.enumerated().map { ArenaPlanner.Request(size: $1, firstStep: $0, lastStep: $0 + 1) }
        let (offsets, size) = ArenaPlanner.plan(requests)
        #expect(size == 640 + 1280)
        for i in 0..<(sizes.count - 1) {
            let a = offsets[i]..<(offsets[i] + sizes[i]), b = offsets[i + 1]..<(offsets[i + 1] + sizes[i + 1])
            #expect(!a.overlaps(b))
        }
    }

    @Test func overlappingLifetimesNeverShareBytes() {
        var requests: [ArenaPlanner.Request] = []
        var random = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let state = random.next()
            let first = Int(state % 100), length = Int((state >> 8) % 10), size = Int((state >> 16) % 5000) + 1
            requests.append(.init(size: size, firstStep: first, lastStep: first + length))
        }
        let (offsets, size) = ArenaPlanner.plan(requests)
        for i in requests.indices {
            #expect(offsets[i] % ArenaPlanner.alignment == 0)
            #expect(offsets[i] + requests[i].size <= size)
            for j in requests.indices where j > i {
                let (a, b) = (requests[i], requests[j])
                guard a.firstStep <= b.lastStep && b.firstStep <= a.lastStep else { continue }
                #expect(!(offsets[i]..<(offsets[i] + a.size)).overlaps(offsets[j]..<(offsets[j] + b.size)))
            }
        }
    }
}
