/// The preprocessing parameters as users write them on a command line or in a config file.
extension PreprocessSpec {
    /// "N" (torchvision `Resize(N)`, shorter side, capped by `maxSize` when given), "HxW"
    /// (`Resize((H, W))`) or "none".
    public static func parseResize(_ text: String, maxSize: Int? = nil) throws -> Resize {
        guard let size = try parseSize(text, what: "resize") else { return .none }
        if text.lowercased().contains("x") { return .exact(size) }
        return maxSize.map { .shorterSideAtMost(size.width, maxSize: $0) } ?? .shorterSide(size.width)
    }

    /// "N" (a square), "HxW", or "none".
    public static func parseCrop(_ text: String) throws -> Size? {
        try parseSize(text, what: "crop")
    }

    /// Three comma-separated numbers, R,G,B.
    public static func parseChannels(_ text: String, what: String) throws -> SIMD3<Float> {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }.filter(\.isFinite)
        guard parts.count == 3, values.count == 3 else {
            throw ImagingError(.invalidArgument, "\(what) needs three comma-separated numbers (R,G,B), got '\(text)'")
        }
        return SIMD3(values)
    }

    private static func parseSize(_ text: String, what: String) throws -> Size? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "none" { return nil }
        let parts = trimmed.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        switch (parts.count, parts.first ?? nil, parts.last ?? nil) {
        case let (1, n?, _) where n > 0: return .square(n)
        case let (2, h?, w?) where h > 0 && w > 0: return Size(width: w, height: h)
        default: throw ImagingError(.invalidArgument, "\(what) must be N, HxW or none, got '\(text)'")
        }
    }
}
