import Testing
@testable import ObjectStore
@Test func placeholder() {}
