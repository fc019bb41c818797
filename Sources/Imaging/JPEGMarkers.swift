/// A walk over a JPEG stream's markers, without decoding: the frame header (size, precision, components)
/// and whether the stream reaches its EOI marker. libjpeg reports a stream that ends early only as a
/// warning (it pads the image with gray); Pillow refuses such a file ("image file is truncated"), and so do we.
struct JPEGMarkers {
    struct Frame: Equatable {
        var marker: UInt8
        var precision: Int
        var height: Int
        var width: Int
        var components: Int

        /// SOF3, 7, 11, 15: the lossless process.
        var isLossless: Bool { marker & 0x03 == 0x03 }
        var isProgressive: Bool { marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE }
    }

    /// The first SOFn frame header, if the walk reached one.
    var frame: Frame?
    /// True when the data ends before an EOI marker (only known after a walk through the whole stream).
    var endsEarly = true

    /// Walks the markers of `bytes`; with `headersOnly`, stops at the first scan (the frame header is known
    /// then, `endsEarly` is not).
    init(_ bytes: UnsafeRawBufferPointer, headersOnly: Bool = false) {
        let n = bytes.count
        guard n >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return }
        var i = 2
        while true {
            // Find the next marker: 0xFF (any number of fill bytes) then a code.
            while i < n, bytes[i] != 0xFF { i += 1 }
            while i < n, bytes[i] == 0xFF { i += 1 }
            guard i < n else { return }
            let marker = bytes[i]
            i += 1
            switch marker {
            case 0xD9:
                endsEarly = false
                return
            case 0x01, 0xD0...0xD8:
                continue  // no payload
            default:
                break
            }
            guard i + 2 <= n else { return }
            let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            guard length >= 2, i + length <= n else { return }
            let payload = i + 2
            if frame == nil, (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC, length >= 8 {
                frame = Frame(marker: marker, precision: Int(bytes[payload]),
                              height: Int(bytes[payload + 1]) << 8 | Int(bytes[payload + 2]),
                              width: Int(bytes[payload + 3]) << 8 | Int(bytes[payload + 4]),
                              components: Int(bytes[payload + 5]))
            }
            i += length
            if marker == 0xDA && headersOnly { return }
            if marker == 0xDA {
                // Entropy-coded data: skip stuffed 0xFF00 and restart markers up to the next real marker.
                while i + 1 < n {
                    if bytes[i] == 0xFF, bytes[i + 1] != 0x00, !(0xD0...0xD7).contains(bytes[i + 1]), bytes[i + 1] != 0xFF {
                        break
                    }
                    i += 1
                }
                guard i + 1 < n else { return }
            }
        }
    }
}
