import Foundation
import FuzzSupport
import Imaging
import Inference

// The `.npy` codec (NumpyFormat) through both of its users: Imaging's NPY (raw image tensors for
// `sluice preprocess`) and Inference's NumpyFile (reference arrays, calibration data).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    if let tensor = try? NumpyFile.parse(Data(bytes), name: "fuzz.npy") {
        _ = tensor.shape
    }
    if let array = try? NPY.decode(Array(bytes)) {
        _ = array.count
    }
    return 0
}

@_cdecl("fuzz_npy_main")
public func fuzzNPYMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzNPY) { seeds in
        let shapes: [[Int]] = [[3], [2, 3], [2, 2, 3], [1, 1, 1, 3], []]
        for dtype in NPY.DType.allCases {
            for (s, shape) in shapes.enumerated() {
                let bytes = [UInt8](repeating: 0x3c, count: shape.reduce(1, *) * dtype.size)
                try seeds.write("\(dtype)-\(s).npy", try bytes.withUnsafeBytes { try NPY.encode($0, dtype: dtype, shape: shape) })
            }
        }
        // Descriptors the Imaging encoder does not write: big-endian, int64, Fortran order, format 2.0.
        for (n, header) in ["{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                            "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }",
                            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }",
                            "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }"].enumerated() {
            var text = Array(header.utf8)
            while (text.count + 11) % 64 != 0 { text.append(0x20) }
            text.append(0x0a)
            let v1 = NPY.magic + [1, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8)] + text
            try seeds.write("descr-\(n).npy", v1 + [UInt8](repeating: 1, count: 16))
            let v2 = NPY.magic + [2, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8), 0, 0] + text
            try seeds.write("descr-\(n)-v2.npy", v2 + [UInt8](repeating: 1, count: 16))
        }
    }
}
