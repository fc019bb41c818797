import Foundation
import ObjectStore

extension RunConfiguration {
    /// The units this worker processes out of the whole job's: the listed ones (`--files-from`), else its
    /// shard of the balanced plan.
    func workerUnits(of jobUnits: [InputUnit]) throws -> [InputUnit] {
        guard let listed = filesFrom else { return ShardPlan(units: jobUnits, count: shard.count).units(of: shard.index) }
        var byName: [String: InputUnit] = [:]
        for unit in jobUnits {
            for name in unit.selectionNames { byName[name] = unit }
        }
        var selected: [InputUnit] = []
        var seen = Set<String>()
        for entry in listed {
            guard let unit = byName[entry] ?? byName[InputUnit.normalisedName(entry)] else {
                throw PipelineError.configuration("--files-from: '\(entry)' is not one of the job's inputs (\(inputs.joined(separator: ", ")))")
            }
            if seen.insert(unit.partName).inserted { selected.append(unit) }
        }
        return selected
    }
}

extension InputUnit {
    /// The names a `--files-from` line may use for this unit: its file (path or s3:// URL) or its part name.
    var selectionNames: [String] {
        switch kind {
        case let .parquet(path): [Self.normalisedName(path), partName]
        case .images: [Self.normalisedName(displayName), partName]
        }
    }

    static func normalisedName(_ name: String) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        return ObjectURL.isRemote(trimmed) ? trimmed : URL(fileURLWithPath: trimmed).standardizedFileURL.path
    }
}
