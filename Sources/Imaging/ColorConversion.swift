/// Pixel conversions that reproduce Pillow's `convert("RGB")` exactly.
enum ColorConversion {
    /// libjpeg's CMYK output (Adobe's inverted convention, which Pillow always assumes: rawmode `CMYK;I`)
    /// to RGBX in place, with Pillow's `cmyk2rgb`: R = 255 - k - c(255 - k)/255, rounded as MULDIV255 does.
    /// Invariant: `pixels` points at `count` 4-byte pixels.
    static func invertedCMYKToRGBX(_ pixels: UnsafeMutablePointer<UInt8>, pixels count: Int) {
        for i in 0..<count {
            let p = pixels + i * 4
            let nk = Int32(p[3])  // 255 - k with k = 255 - K
            p[0] = clip8(nk - mulDiv255(255 - Int32(p[0]), nk))
            p[1] = clip8(nk - mulDiv255(255 - Int32(p[1]), nk))
            p[2] = clip8(nk - mulDiv255(255 - Int32(p[2]), nk))
            p[3] = 255
        }
    }

    /// Pillow's MULDIV255(a, b): a·b/255 rounded, for a, b in 0...255.
    @inline(__always)
    static func mulDiv255(_ a: Int32, _ b: Int32) -> Int32 {
        let t = a &* b &+ 128
        return ((t >> 8) &+ t) >> 8
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        UInt8(clamping: v)
    }
}
