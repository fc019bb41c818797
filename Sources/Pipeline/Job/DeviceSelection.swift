import Foundation
import Inference

/// What `--device` asked for.
public enum DeviceSelection: Sendable, Equatable, CustomStringConvertible {
    case cpu
    /// One GPU by ordinal (`cuda` is `cuda:0`).
    case cuda(Int)
    /// Every GPU the driver reports.
    case cudaAll
    /// A GPU when one is usable, else the CPU.
    case auto

    public static let helpText = "cpu, cuda (= cuda:0), cuda:N, cuda:all (every GPU, 2 model copies each) or auto (a GPU when the CUDA driver finds one, else the CPU)"

    /// Parses `cpu`, `cuda`, `cuda:N`, `cuda:all` or `auto`.
    public static func parse(_ text: String) throws -> DeviceSelection {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch value {
        case "cpu": return .cpu
        case "cuda", "gpu": return .cuda(0)
        case "cuda:all": return .cudaAll
        case "auto": return .auto
        default:
            if value.hasPrefix("cuda:"), let ordinal = Int(value.dropFirst(5)), ordinal >= 0 { return .cuda(ordinal) }
            throw PipelineError.configuration("--device: '\(text)' is not a device; use \(helpText)")
        }
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case let .cuda(ordinal): "cuda:\(ordinal)"
        case .cudaAll: "cuda:all"
        case .auto: "auto"
        }
    }
}

/// Where a run's models live once `--device` is resolved against the machine.
public enum DevicePlacement: Sendable, Equatable, CustomStringConvertible {
    case cpu
    /// These GPUs (ordinals), each running `copiesPerDevice` model copies.
    case cuda([Int])

    /// Model copies per GPU: each has its own feeder thread and stream, so one copy's upload overlaps the other's compute.
    public static let copiesPerDevice = 2

    public var isGPU: Bool {
        if case .cuda = self { return true }
        return false
    }

    /// Model copies a run makes: `copiesPerDevice` per GPU; nil on the CPU (the layout is measured there).
    public var modelCopies: Int? {
        guard case let .cuda(ordinals) = self else { return nil }
        return ordinals.count * Self.copiesPerDevice
    }

    /// The GPU of model copy `copy`: copies 0 and 1 on the first GPU, 2 and 3 on the second, ...
    public func ordinal(ofCopy copy: Int) -> Int? {
        guard case let .cuda(ordinals) = self, !ordinals.isEmpty else { return nil }
        return ordinals[(copy / Self.copiesPerDevice) % ordinals.count]
    }

    /// The precision when `--precision` is not given: fp16 on a GPU (tensor cores), fp32 on the CPU.
    public var defaultPrecision: Precision { isGPU ? .fp16 : .fp32 }

    /// Images per batch when `--batch-size` is not given.
    public var defaultBatchSize: Int { isGPU ? 256 : 64 }

    /// `precision`, or the device's default; refuses a precision the device has no kernels for.
    public func precision(_ asked: Precision?) throws -> Precision {
        guard let asked else { return defaultPrecision }
        switch (self, asked) {
        case (.cuda, .int8):
            throw PipelineError.configuration("--precision int8 runs on the CPU only (oneDNN); on a GPU use fp16 (the default there), bf16, tf32 or fp32, or give --device cpu")
        case (.cpu, .fp16), (.cpu, .tf32):
            throw PipelineError.configuration("--precision \(asked.rawValue) needs a GPU (--device cuda); on the CPU use fp32 (the default), bf16 or int8")
        default:
            return asked
        }
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case let .cuda(ordinals): ordinals.map { "cuda:\($0)" }.joined(separator: ",")
        }
    }
}

/// A GPU the driver reports.
public struct GPUDevice: Sendable, Equatable {
    public var ordinal: Int
    public var name: String
    public var totalMemoryBytes: Int

    public init(ordinal: Int, name: String, totalMemoryBytes: Int = 0) {
        self.ordinal = ordinal
        self.name = name
        self.totalMemoryBytes = totalMemoryBytes
    }

    public var description: String { "cuda:\(ordinal) \(name)" + (totalMemoryBytes > 0 ? " (\(totalMemoryBytes >> 30) GiB)" : "") }
}

/// Resolves `--device` against the GPUs a probe finds. The probe loads the driver and counts devices only:
/// it runs before any input is opened, so `--device cuda` on a machine without a GPU fails at once.
public struct DeviceResolver: Sendable {
    /// The GPUs of this machine; throws (naming what was looked for and where) when there is no driver or device.
    public var probe: @Sendable () throws -> [GPUDevice]

    public init(probe: @escaping @Sendable () throws -> [GPUDevice]) {
        self.probe = probe
    }

    /// The placement, and one line for the log saying which device was chosen and why.
    public func resolve(_ selection: DeviceSelection) throws -> (placement: DevicePlacement, note: String) {
        switch selection {
        case .cpu:
            return (.cpu, "device: cpu")
        case .auto:
            do {
                let devices = try probe()
                guard let first = devices.first else { return (.cpu, "device: auto → cpu (the CUDA driver reports no GPU)") }
                return (.cuda([first.ordinal]), "device: auto → \(first.description)")
            } catch {
                return (.cpu, "device: auto → cpu (no usable GPU: \(error))")
            }
        case let .cuda(ordinal):
            let devices = try probed(selection)
            guard let device = devices.first(where: { $0.ordinal == ordinal }) else {
                throw PipelineError.configuration("--device \(selection): this machine has \(devices.count) GPU\(devices.count == 1 ? "" : "s") (\(devices.map(\.description).joined(separator: ", ")))")
            }
            return (.cuda([ordinal]), "device: \(device.description)")
        case .cudaAll:
            let devices = try probed(selection)
            return (.cuda(devices.map(\.ordinal)), "device: \(devices.map(\.description).joined(separator: ", ")), \(DevicePlacement.copiesPerDevice) model copies each")
        }
    }

    private func probed(_ selection: DeviceSelection) throws -> [GPUDevice] {
        let devices: [GPUDevice]
        do { devices = try probe() } catch {
            throw PipelineError.configuration("--device \(selection): \(error)")
        }
        guard !devices.isEmpty else { throw PipelineError.configuration("--device \(selection): the CUDA driver loaded but reports no GPU") }
        return devices
    }
}
