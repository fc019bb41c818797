import Foundation

/// Where tests find their data: the repository, `../shared` beside it (override with SLUICE_SHARED), and
/// fresh temporary directories.
public enum TestData {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static let shared: URL = {
        if let override = ProcessInfo.processInfo.environment["SLUICE_SHARED"] { return URL(fileURLWithPath: override) }
        return repository.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    public static let fixtures = repository.appendingPathComponent("Tests/Fixtures")

    /// A fresh, empty temporary directory.
    public static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "sluice-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
