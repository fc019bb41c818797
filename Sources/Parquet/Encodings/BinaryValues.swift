/// Variable-length binary values stored contiguously: value i is `bytes[offsets[i]..<offsets[i+1]]`;
/// `offsets.count == count + 1`.
public struct BinaryValues: Sendable, Equatable {
    public var offsets: [Int]
    public var bytes: [UInt8]

    public var count: Int { offsets.count - 1 }

    public init() {
        offsets = [0]
        bytes = []
    }

    init(offsets: [Int], bytes: [UInt8]) {
        self.offsets = offsets
        self.bytes = bytes
    }

    public subscript(i: Int) -> ArraySlice<UInt8> {
        bytes[offsets[i]..<offsets[i + 1]]
    }

    public mutating func append(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    mutating func append<C: Collection>(contentsOf value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }
}
