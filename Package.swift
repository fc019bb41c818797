// swift-tools-version:6.1
import PackageDescription

// Imaging's SIMD kernels are two orders of magnitude slower unoptimised, which would make debug builds
// of the CLI and the image tests (thousands of decodes) crawl: they are optimised in every configuration.
// On x86-64 they are compiled for AVX2 + FMA (x86-64-v3, every x86 server since 2013): Swift's 8-lane
// vectors then map to single instructions, 2-3x faster than the SSE2 baseline.
#if arch(x86_64)
let imagingSettings: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "haswell"])]
#else
let imagingSettings: [SwiftSetting] = [.unsafeFlags(["-O"])]
#endif

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ByteIO", targets: ["ByteIO"]),
        .library(name: "Parquet", targets: ["Parquet"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "ObjectStore", targets: ["ObjectStore"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Inference", targets: ["Inference"]),
        .library(name: "Serving", targets: ["Serving"]),
        .library(name: "ONNX", targets: ["ONNX"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // ObjectStore: HTTP client and SigV4's SHA-256/HMAC (swift-crypto also comes with async-http-client's TLS).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // Already built for async-http-client; named so that ObjectStore may import NIOCore/NIOPosix.
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        // `sluice serve`: the SageMaker container's HTTP server (its swift-configuration support left out).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        // Hummingbird's own dependencies, named for the server's graceful shutdown and its log level.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        // ONNX: the runtime of the committed, generated Sources/ONNX/Generated/onnx.pb.swift (scripts/generate-onnx-proto).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System codec libraries (Debian -dev packages, installed by scripts/bootstrap).
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // oneDNN 2.x or 3.x (no pkg-config file: linked by name), and the C shim that hides their differences.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL/System", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "CDNNLShim", dependencies: ["CDNNL"], path: "Sources/CDNNL/Shim",
                linkerSettings: [.linkedLibrary("dnnl")]),
        // Image codecs for the Imaging module.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSpng", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),

        // Hand-vectorised kernels with runtime CPU dispatch (C, because Swift cannot name AVX-512 VBMI).
        .target(name: "CSluiceKernels"),

        // Byte-range sources and sinks (local files, memory; S3 in ObjectStore): what Parquet reads from and
        // writes to, and what ObjectStore implements, so neither depends on the other.
        .target(name: "ByteIO"),
        // NumPy's .npy format: what `preprocess` writes (Imaging) and `predict` reads (Inference).
        .target(name: "NumpyFormat"),
        // SplitMix64: seeded weights, synthetic datasets and test inputs, reproducible everywhere.
        .target(name: "SeededRandom"),
        .target(
            name: "Parquet",
            dependencies: ["ByteIO", "CSnappy", "CZstd", "CLZ4", "CZlib", "CSluiceKernels"]
        ),
        .target(
            name: "Inference",
            dependencies: ["CDNNLShim", "NumpyFormat", "SeededRandom"]
        ),
        // ONNX models (protobuf) lowered into Inference's graph IR.
        .target(
            name: "ONNX",
            dependencies: ["Inference", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "Imaging",
            dependencies: ["CTurboJPEG", "CSpng", "NumpyFormat"],
            swiftSettings: imagingSettings
        ),
        .target(
            name: "ObjectStore",
            dependencies: [
                "ByteIO",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Pipeline",
            dependencies: ["Parquet", "Imaging", "Inference", "ONNX", "ObjectStore", "SeededRandom"]
        ),
        // `sluice serve`: SageMaker's container contract over HTTP, with dynamic batching.
        .target(
            name: "Serving",
            dependencies: [
                "Pipeline", "Parquet", "Imaging", "Inference", "NumpyFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Serving",
                "Parquet",
                "Imaging",
                "ObjectStore",
                "Pipeline",
                "Inference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sluice-bench",
            dependencies: ["Parquet", "Imaging", "ObjectStore", "Pipeline", "SluiceTestSupport"],
            path: "bench/Sources/sluice-bench"
        ),
        .target(name: "CPeak", path: "bench/Sources/CPeak"),
        .executableTarget(
            name: "sluice-infer-bench",
            dependencies: ["Inference", "ONNX", "Pipeline", "CPeak"],
            path: "bench/Sources/sluice-infer-bench"
        ),
        // Test and benchmark helpers: paths, a seeded generator, the moto S3 server.
        .target(name: "SluiceTestSupport", dependencies: ["SeededRandom"], path: "Tests/SluiceTestSupport"),
        .testTarget(
            name: "ParquetTests",
            dependencies: ["Parquet", "SluiceTestSupport"]
        ),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "SluiceTestSupport"]
        ),
        .testTarget(
            name: "ONNXTests",
            dependencies: ["ONNX", "Inference", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", "SluiceTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: imagingSettings
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "ObjectStore",
                "SluiceTestSupport",
                "Parquet",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "ServingTests",
            dependencies: ["Serving", "Pipeline", "Parquet", "Imaging", "SluiceTestSupport",
                           .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Parquet", "Imaging", "SluiceTestSupport"]
        ),
    ]
)

// Fuzzing (scripts/fuzz, scripts/fuzz-ci): libFuzzer targets, declared only when SLUICE_FUZZ=1 so that ordinary
// builds and the test build never see them. Only Sluice's own modules are instrumented for coverage and
// AddressSanitizer; the dependencies (NIO, swift-crypto) are built plainly, which keeps the build within minutes.
if Context.environment["SLUICE_FUZZ"] == "1" {
    let sanitizers = ["-sanitize=fuzzer,address"]
    for target in package.targets {
        switch target.name {
        case "Parquet", "Imaging", "Inference", "ObjectStore", "NumpyFormat", "ByteIO", "ONNX":
            target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
        case "CSluiceKernels", "CDNNLShim":
            target.cSettings = (target.cSettings ?? []) + [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])]
        default:
            break
        }
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("parquet-footer", ["Parquet"]),
        ("parquet-pages", ["Parquet"]),
        ("parquet-file", ["Parquet"]),
        ("arrow-schema", ["Parquet"]),
        ("head", ["Parquet"]),
        ("safetensors", ["Inference"]),
        ("npy", ["Imaging", "Inference"]),
        ("image", ["Imaging"]),
        ("s3-xml", []),
        ("serve-request", ["NumpyFormat"]),
        ("onnx-model", ["ONNX", "Inference"]),
    ]
    package.targets.append(.target(name: "CFuzzerDriver", path: "Fuzz/Support/CFuzzerDriver"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", "Parquet"], path: "Fuzz/Support/FuzzSupport",
                                   swiftSettings: [.unsafeFlags(sanitizers)]))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(
            name: "fuzz-\(name)", dependencies: dependencies + ["FuzzSupport"], path: "Fuzz/Targets/\(name)",
            swiftSettings: [.unsafeFlags(sanitizers + ["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(sanitizers)]))
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
