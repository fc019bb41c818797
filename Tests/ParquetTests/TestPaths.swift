import Foundation

/// Paths of test data: `../shared` beside the repository (override with SLUICE_SHARED) and the fixtures
/// that `Tests/Fixtures/make_parquet_fixtures.py` generates.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let shared: URL = {
        if let override = ProcessInfo.processInfo.environment["SLUICE_SHARED"] { return URL(fileURLWithPath: override) }
        return repository.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static let parquetTesting = shared.appendingPathComponent("data/parquet-testing")
    static let generatedFixtures = repository.appendingPathComponent("Tests/Fixtures/generated/parquet")
}
