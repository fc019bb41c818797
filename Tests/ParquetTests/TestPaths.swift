import Foundation
import SluiceTestSupport

/// Paths of test data: `../shared` beside the repository (override with SLUICE_SHARED) and the fixtures
/// that `Tests/Fixtures/make_parquet_fixtures.py` generates.
enum TestPaths {
    static let repository = TestData.repository
    static let shared = TestData.shared

    static let parquetTesting = shared.appendingPathComponent("data/parquet-testing")
    static let generatedFixtures = repository.appendingPathComponent("Tests/Fixtures/generated/parquet")
}
