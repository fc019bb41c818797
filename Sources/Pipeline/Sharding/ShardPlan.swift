import Foundation

/// Which units each of `count` workers processes. Every worker lists the input the same way and computes
/// the same plan, so no coordinator is needed: units are taken largest first (by bytes, ties by part name)
/// and each goes to the shard with the fewest bytes so far (ties: the lowest index) — greedy longest-
/// processing-time, within 4/3 of the best possible makespan, so one large file does not make a straggler.
/// Within a shard, units keep the job's order.
public struct ShardPlan: Sendable {
    public let count: Int
    /// The job's units, in the job's order.
    public let units: [InputUnit]
    /// The shard of each unit of `units`.
    public let shardOfUnit: [Int]

    public init(units: [InputUnit], count: Int) {
        precondition(count > 0, "a plan needs at least one shard")
        self.count = count
        self.units = units
        var load = [Int64](repeating: 0, count: count)
        var shardOfUnit = [Int](repeating: 0, count: units.count)
        let order = units.indices.sorted {
            units[$0].bytes != units[$1].bytes ? units[$0].bytes > units[$1].bytes : units[$0].partName < units[$1].partName
        }
        for unit in order {
            // Files of unknown size (0) are spread by count: every unit weighs at least one byte.
            let shard = load.indices.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 } ?? 0
            shardOfUnit[unit] = shard
            load[shard] += max(units[unit].bytes, 1)
        }
        self.shardOfUnit = shardOfUnit
    }

    /// The units of shard `index`, in the job's order.
    public func units(of index: Int) -> [InputUnit] {
        units.indices.filter { shardOfUnit[$0] == index }.map { units[$0] }
    }

    /// Bytes of input assigned to shard `index`.
    public func bytes(of index: Int) -> Int64 {
        units.indices.filter { shardOfUnit[$0] == index }.reduce(0) { $0 + units[$1].bytes }
    }
}
