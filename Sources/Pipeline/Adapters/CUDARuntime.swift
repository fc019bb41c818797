import Foundation
import Inference

/// The pipeline's one door to the CUDA backend (Inference/Backend/CUDA): the device probe, and a backend per
/// GPU whose model copies share their weights. Everything else in the pipeline is device-neutral.
public enum CUDARuntime {
    /// The GPUs of this machine, found by loading the driver (`libcuda.so.1`) from the CUDA library search
    /// (SLUICE_CUDA_LIBRARY_PATH, LD_LIBRARY_PATH, the linker's paths, pip's nvidia/*/lib folders); throws the
    /// loader's error, naming what was looked for and where, when there is no driver or no device.
    public static func probe() throws -> [GPUDevice] {
        try CUDADevices.probe(search: CUDALibrarySearch()).map {
            GPUDevice(ordinal: $0.ordinal, name: $0.name, totalMemoryBytes: $0.totalMemoryBytes)
        }
    }

    /// The resolver `--device` uses on this machine.
    public static var resolver: DeviceResolver { DeviceResolver(probe: { try probe() }) }

    /// A backend compiling for GPU `device`: with `normalization`, the model reads uint8 HWC crops and normalises
    /// them on the GPU; without, normalised float32 NCHW. Copies made with the same `weights` share one upload.
    static func backend(device: Int, normalization: InputNormalization?, weights: CUDAWeightShare) -> any Backend {
        CUDABackend(device: device, inputNormalization: normalization, sharedWeights: weights.cache(for: device))
    }
}

/// One weight cache per GPU, shared by every model copy a factory compiles on it.
final class CUDAWeightShare: @unchecked Sendable {
    private let lock = NSLock()
    private var caches: [Int: CUDAWeightCache] = [:]

    func cache(for device: Int) -> CUDAWeightCache {
        lock.withLock {
            if let cache = caches[device] { return cache }
            let cache = CUDAWeightCache()
            caches[device] = cache
            return cache
        }
    }
}
