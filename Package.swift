// swift-tools-version:6.0
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
        .library(name: "Parquet", targets: ["Parquet"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System codec libraries (Debian -dev packages, installed by scripts/bootstrap).
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Image codecs for the Imaging module.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSpng", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),

        // Hand-vectorised kernels with runtime CPU dispatch (C, because Swift cannot name AVX-512 VBMI).
        .target(name: "CSluiceKernels"),

        .target(
            name: "Parquet",
            dependencies: ["CSnappy", "CZstd", "CLZ4", "CZlib", "CSluiceKernels"]
        ),
        .target(
            name: "Imaging",
            dependencies: ["CTurboJPEG", "CSpng"],
            swiftSettings: imagingSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: ["Parquet", "Imaging"]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Parquet",
                "Imaging",
                "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sluice-bench",
            dependencies: ["Parquet", "Imaging", "Pipeline"],
            path: "bench/Sources/sluice-bench"
        ),
        .testTarget(
            name: "ParquetTests",
            dependencies: ["Parquet"]
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging"],
            swiftSettings: imagingSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Parquet", "Imaging"]
        ),
    ]
)
