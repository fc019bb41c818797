import CSluiceKernels

/// A dictionary page's values converted to the tensor's element type, ready to be gathered by index.
struct TensorDictionary {
    let count: Int
    let element: TensorElement
    /// `count` elements; for one-byte elements padded to 256 entries, so any 8-bit index can be looked up.
    private let table: [UInt8]

    /// - Parameter storage: how the column stores the values (nil: exactly as `element`).
    init(_ values: ColumnValues, storage: TensorStorage? = nil, element: TensorElement) throws {
        count = values.count
        self.element = element
        var table = [UInt8](repeating: 0, count: max(count, element.byteWidth == 1 ? 256 : 0) * element.byteWidth)
        do {
            try table.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                if let storage {
                    try TensorConversion.store(values, storage: storage, as: element, into: base)
                } else {
                    try element.store(values, into: base)
                }
            }
        } catch let error as TensorRangeError {
            // Checked once per dictionary: a page's indices then need no per-value range check.
            throw ParquetError(.schemaMismatch, "dictionary entry \(error.index) holds \(error.value), outside 0...255: "
                + "\(storage.map { "\($0)" } ?? "integer") values are read as uint8 pixels")
        }
        self.table = table
    }

    /// Decodes `count` dictionary indices (a bit-width byte, then RLE/bit-packed runs) into elements.
    func decodeIndices(_ data: UnsafeRawBufferPointer, count total: Int, into destination: UnsafeMutableRawPointer,
                       scratch: inout PageScratch) throws {
        guard total > 0 else { return }
        guard let width = data.first else { throw ParquetError.truncated("dictionary indices: page has no bit width byte") }
        guard width <= 32 else { throw ParquetError.corruptPage("dictionary index bit width \(width) exceeds 32") }
        var decoder = try RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: Int(width))
        let elementWidth = element.byteWidth
        var written = 0
        try table.withUnsafeBytes { table in
            while written < total {
                guard let run = try decoder.nextRun(maxValues: total - written) else {
                    throw ParquetError.truncated("dictionary indices end after \(written) of \(total) values")
                }
                let out = destination + written * elementWidth
                switch run {
                case let .repeated(index, length):
                    guard Int(index) < count else { throw outOfRange(Int(index)) }
                    fill(out, with: table.baseAddress! + Int(index) * elementWidth, count: length)
                    written += length
                case let .bitPacked(bytes, first, length):
                    if width == 8 && elementWidth == 1 {
                        try mapBytes(UnsafeRawBufferPointer(rebasing: bytes[first..<first + length]), table, out)
                    } else {
                        try gatherPacked(bytes, bitWidth: Int(width), first: first, count: length, table, out, &scratch)
                    }
                    written += length
                }
            }
        }
    }

    /// The 8-bit fast path: each index byte maps through the 256-entry table (64 bytes per step with
    /// AVX-512 VBMI).
    private func mapBytes(_ indices: UnsafeRawBufferPointer, _ table: UnsafeRawBufferPointer, _ out: UnsafeMutableRawPointer) throws {
        guard let source = indices.baseAddress, !indices.isEmpty else { return }
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        if count < 256 {
            let largest = sluice_max_byte(bytes, indices.count)
            guard Int(largest) < count else { throw outOfRange(Int(largest)) }
        }
        // Invariant: table holds 256 entries, so every byte is a valid index.
        sluice_lookup_bytes(bytes, out.assumingMemoryBound(to: UInt8.self), indices.count,
                            table.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }

    private func gatherPacked(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, first: Int, count length: Int,
                              _ table: UnsafeRawBufferPointer, _ out: UnsafeMutableRawPointer, _ scratch: inout PageScratch) throws {
        let indices = scratch.indices(first + length)
        try unpackBits(bytes, bitWidth: bitWidth, count: first + length, into: indices.baseAddress!)
        let width = element.byteWidth
        for k in 0..<length {
            let index = Int(indices[first + k])
            guard index < count else { throw outOfRange(index) }
            (out + k * width).copyMemory(from: table.baseAddress! + index * width, byteCount: width)
        }
    }

    private func fill(_ out: UnsafeMutableRawPointer, with value: UnsafeRawPointer, count length: Int) {
        switch element.byteWidth {
        case 1: out.initializeMemory(as: UInt8.self, repeating: value.load(as: UInt8.self), count: length)
        case 2: out.initializeMemory(as: UInt16.self, repeating: value.loadUnaligned(as: UInt16.self), count: length)
        case 4: out.initializeMemory(as: UInt32.self, repeating: value.loadUnaligned(as: UInt32.self), count: length)
        default: out.initializeMemory(as: UInt64.self, repeating: value.loadUnaligned(as: UInt64.self), count: length)
        }
    }

    private func outOfRange(_ index: Int) -> ParquetError {
        ParquetError.corruptPage("dictionary index \(index) is out of range for a dictionary of \(count) values")
    }
}

/// Per-reader scratch for unpacked indices, grown as needed and reused across pages.
struct PageScratch {
    private var storage: [UInt32] = []

    mutating func indices(_ count: Int) -> UnsafeMutableBufferPointer<UInt32> {
        if storage.count < count + 8 { storage = [UInt32](repeating: 0, count: count + 8) }
        return storage.withUnsafeMutableBufferPointer { $0 }
    }
}

/// Value `index` of LSB-first bit-packed data (callers stay within the run the decoder handed them).
func bitPackedValue(_ bytes: UnsafeRawBufferPointer, index: Int, bitWidth: Int) -> UInt32 {
    var value: UInt64 = 0
    let firstBit = index * bitWidth
    var bit = 0
    while bit < bitWidth {
        let position = firstBit + bit
        let byte = position >> 3 < bytes.count ? UInt64(bytes[position >> 3]) : 0
        let take = min(8 - (position & 7), bitWidth - bit)
        value |= ((byte >> UInt64(position & 7)) & ((1 << UInt64(take)) - 1)) << UInt64(bit)
        bit += take
    }
    return UInt32(truncatingIfNeeded: value)
}
