import Foundation

// The framing of an Arrow IPC message around its flatbuffer, as Parquet writers store it
// base64-encoded under the footer key `ARROW:schema`:
//   current:  0xFFFFFFFF, int32 LE metadata length, flatbuffer `Message` (+ padding)
//   legacy (Arrow < 0.15): int32 LE metadata length, flatbuffer `Message`
// The length counts the flatbuffer and its padding, so that prefix + length is a multiple of 8.

enum ArrowIPCSchemaMessage {
    static let context = "ARROW:schema"
    static let continuationMarker: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]

    static func error(_ message: String) -> ParquetError {
        ParquetError(.corruptMetadata, "\(context): \(message)")
    }

    /// The flatbuffer inside an encapsulated IPC message.
    static func flatbuffer(in bytes: [UInt8]) throws -> [UInt8] {
        let lengthAt = bytes.starts(with: continuationMarker) ? 4 : 0
        guard bytes.count >= lengthAt + 4 else {
            throw error("the IPC message is \(bytes.count) bytes, too short for its length prefix")
        }
        var length = 0
        for index in 0..<4 {
            length |= Int(bytes[lengthAt + index]) << (8 * index)
        }
        let signedLength = Int(Int32(truncatingIfNeeded: length))
        let start = lengthAt + 4
        guard signedLength > 0 else {
            throw error("the IPC message declares a metadata length of \(signedLength)")
        }
        guard signedLength <= bytes.count - start else {
            throw error("the IPC message declares \(signedLength) bytes of metadata but only \(bytes.count - start) follow")
        }
        return Array(bytes[start..<(start + signedLength)])
    }

    /// Wraps `flatbuffer` as the current writers do: marker, padded length, flatbuffer, padding.
    static func frame(_ flatbuffer: [UInt8]) -> [UInt8] {
        let prefix = 8
        let padded = (flatbuffer.count + prefix + 7) / 8 * 8 - prefix
        var message = continuationMarker
        message.reserveCapacity(prefix + padded)
        for index in 0..<4 {
            message.append(UInt8(truncatingIfNeeded: padded >> (8 * index)))
        }
        message.append(contentsOf: flatbuffer)
        message.append(contentsOf: repeatElement(0, count: padded - flatbuffer.count))
        return message
    }

    /// Standard base64 (as pyarrow writes it); a missing `=` padding is tolerated.
    static func decodeBase64(_ text: String) throws -> [UInt8] {
        var padded = text
        let remainder = padded.utf8.count % 4
        if remainder != 0 {
            padded += String(repeating: "=", count: 4 - remainder)
        }
        guard let data = Data(base64Encoded: padded) else {
            throw error("the value is not valid base64 (\(text.utf8.count) characters)")
        }
        return [UInt8](data)
    }
}

extension ArrowSchema {
    /// Decodes the value of the Parquet footer key `ARROW:schema`.
    /// Throws `ParquetError(.corruptMetadata, "ARROW:schema: ...")` on any malformation.
    public init(ipcSchemaBase64: String) throws {
        try self.init(ipcSchemaMessage: try ArrowIPCSchemaMessage.decodeBase64(ipcSchemaBase64))
    }

    /// Decodes an encapsulated IPC Schema message (with or without the continuation marker).
    public init(ipcSchemaMessage bytes: [UInt8]) throws {
        let flatbuffer = try ArrowIPCSchemaMessage.flatbuffer(in: bytes)
        var decoder = ArrowSchemaDecoder(FlatBufferReader(flatbuffer, context: ArrowIPCSchemaMessage.context))
        self = try decoder.decodeMessage()
    }

    /// The encapsulated IPC Schema message pyarrow writes: continuation marker, length, the
    /// flatbuffer `Message` (metadata version V5) padded to a multiple of 8 bytes.
    public func ipcSchemaMessage() -> [UInt8] {
        ArrowIPCSchemaMessage.frame(ArrowSchemaEncoder.flatbuffer(for: self))
    }

    /// The value to store under the Parquet footer key `ARROW:schema`.
    public func ipcSchemaBase64() -> String {
        Data(ipcSchemaMessage()).base64EncodedString()
    }
}
