import Foundation
@testable import Imaging
import Testing

/// `.npy` files whose headers lie: each must give the typed error that says what is wrong.
@Suite("Hostile .npy headers")
struct NPYHeaderTests {
    /// A format 1.0 file with `dict` as its header and `data` after it.
    static func npy(_ dict: String, data: [UInt8] = [], major: UInt8 = 1, declaredLength: Int? = nil) -> [UInt8] {
        let header = Array(dict.utf8)
        let length = declaredLength ?? header.count
        let preamble: [UInt8] = major == 1
            ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
            : [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24 & 0xFF)]
        return NPY.magic + [major, 0] + preamble + header + data
    }

    static func error(_ bytes: [UInt8]) -> ImagingError? {
        imagingError { _ = try NPY.decode(bytes) }
    }

    @Test("hostile headers", arguments: [
        // The product of the dimensions overflows Int (was a trap).
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", ImagingError.Kind.shapeMismatch, "more than Int.max"),
        // The element count fits but its bytes do not (was a trap: count × 4).
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", .shapeMismatch, "more than Int.max bytes"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (10, 10, 3), }", .shapeMismatch, "does not hold"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (1.5, 2), }", .corrupt, "'1.5' is not a non-negative integer"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 2), }", .corrupt, "'-1'"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (True,), }", .corrupt, "'True'"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (" + String(repeating: "1,", count: 65) + "), }", .corrupt, "65 dimensions"),
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", .unsupported, "dtype"),
        ("{'descr': '|u1', 'fortran_order': True, 'shape': (1,), }", .unsupported, "Fortran"),
        ("{'descr': '|u1', 'fortran_order': False, }", .corrupt, "has no 'shape'"),
    ])
    func hostile(_ dict: String, _ kind: ImagingError.Kind, _ phrase: String) {
        let error = Self.error(Self.npy(dict))
        #expect(error?.kind == kind && error?.message.contains(phrase) == true, "\(dict): \(String(describing: error))")
    }

    /// Reproducers from the fuzzer (`/work/fuzz-findings`), committed under Tests/Fixtures/imaging/bad/.
    @Test("fuzzer reproducers give typed errors", arguments: [
        // Shape "(2,00000000000000002000000000000200000" of float32: count × 4 overflowed (was a trap). The shape
        // has no closing parenthesis, which the codec now refuses first; the overflow is covered above.
        ("npy-crash-637ebf2527e4.npy", ImagingError.Kind.corrupt, "unterminated shape"),
    ])
    func fuzzerReproducers(_ name: String, _ kind: ImagingError.Kind, _ phrase: String) throws {
        let bytes = try [UInt8](Data(contentsOf: TestPaths.fixtures.appendingPathComponent("bad").appendingPathComponent(name)))
        let error = Self.error(bytes)
        #expect(error?.kind == kind && error?.message.contains(phrase) == true, "\(name): \(String(describing: error))")
    }

    @Test("header length beyond the file or the limit")
    func headerLength() {
        let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }"
        let past = Self.error(Self.npy(dict, data: [0], declaredLength: 60_000))
        #expect(past?.kind == .truncated && past?.message.contains("runs past the end") == true, "\(String(describing: past))")
        let huge = Self.error(Self.npy(dict, data: [0], major: 2, declaredLength: 0x7FFF_FFFF))
        #expect(huge?.kind == .corrupt && huge?.message.contains("over the limit") == true, "\(String(describing: huge))")
        let cut = Self.error(NPY.magic + [2, 0, 5, 0])
        #expect(cut?.kind == .truncated, "\(String(describing: cut))")
        #expect(Self.error(NPY.magic + [9, 0, 0, 0])?.kind == .unsupported)
    }

    @Test("well-formed arrays still round-trip, including empty ones")
    func roundTrip() throws {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let bytes = try values.withUnsafeBytes { try NPY.encode($0, dtype: .float32, shape: [2, 3]) }
        let array = try NPY.decode(bytes)
        let floats = array.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(array.shape == [2, 3] && floats == values)
        let empty = try [UInt8]().withUnsafeBytes { try NPY.encode($0, dtype: .uint8, shape: [0, 4611686018427387904]) }
        #expect(try NPY.decode(empty).count == 0)
        // Encoding refuses a shape whose product overflows instead of trapping.
        #expect(imagingError { _ = try [UInt8]().withUnsafeBytes { try NPY.encode($0, dtype: .uint8, shape: [1 << 40, 1 << 40]) } }?.kind == .invalidArgument)
    }
}
