import Foundation
import SluiceTestSupport

/// Paths of test data: `../shared` beside the repository (override with SLUICE_SHARED) and the committed
/// fixtures that `Tests/Fixtures/make_imaging_fixtures.py` writes.
enum TestPaths {
    static let repository = TestData.repository
    static let shared = TestData.shared

    static let images = shared.appendingPathComponent("data/images")
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/imaging")

    static func image(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: images.appendingPathComponent(name)))
    }
}
