import Foundation
import Testing
@testable import Inference

/// What the CUDA tests can use on this machine: the real libraries when the search finds them, a GPU when the
/// driver has one. Tests needing something absent are skipped (reported as skipped), except that with
/// SLUICE_REQUIRE_CUDA_LIBS=1 (scripts/test, CI, which pip-installs NVRTC and cuDNN) a missing NVRTC or cuDNN fails.
enum CUDATestSupport {
    static let librariesRequired = ProcessInfo.processInfo.environment["SLUICE_REQUIRE_CUDA_LIBS"] == "1"

    static let nvrtc: Result<NVRTC, Error> = Result { try NVRTC.load() }
    static let cudnn: Result<CUDNN, Error> = Result { try CUDNN.load() }
    static let cublasLt: Result<CUBLASLt, Error> = Result { try CUBLASLt.load() }
    static let devices: Result<[CUDADeviceInfo], Error> = Result { try CUDADevices.probe() }

    static var hasNVRTC: Bool { (try? nvrtc.get()) != nil }
    static var hasCUDNN: Bool { (try? cudnn.get()) != nil }
    static var hasCUBLASLt: Bool { (try? cublasLt.get()) != nil }
    /// A driver is installed (libcuda.so.1 loads), with or without a device.
    static var hasDriver: Bool {
        switch devices {
        case .success: true
        case .failure(let error): !Self.isAbsence(error)
        }
    }
    static var hasGPU: Bool { ((try? devices.get()) ?? []).isEmpty == false }

    static func isAbsence(_ error: Error) -> Bool {
        if case CUDAError.libraryNotFound = error { return true }
        return false
    }

    /// The loaded library, or nil after recording a failure when it is required but absent (or failed to load).
    static func required<Library>(_ result: Result<Library, Error>, _ what: String) -> Library? {
        switch result {
        case .success(let library): return library
        case .failure(let error):
            let message = "\(what) is required (SLUICE_REQUIRE_CUDA_LIBS=1) but did not load: \(error). "
                + "scripts/bootstrap pip-installs it; or set SLUICE_CUDA_LIBRARY_PATH"
            Issue.record(Comment(rawValue: message))
            return nil
        }
    }
}
