// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Parquet", targets: ["Parquet"]),
        .library(name: "ObjectStore", targets: ["ObjectStore"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // ObjectStore: HTTP client and SigV4's SHA-256/HMAC (swift-crypto also comes with async-http-client's TLS).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // Already built for async-http-client; named so that ObjectStore may import NIOCore/NIOPosix.
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
    ],
    targets: [
        // System codec libraries (Debian -dev packages, installed by scripts/bootstrap).
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(
            name: "Parquet",
            dependencies: ["CSnappy", "CZstd", "CLZ4", "CZlib"]
        ),
        .target(
            name: "ObjectStore",
            dependencies: [
                "Parquet",
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
            dependencies: ["Parquet"]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Parquet",
                "ObjectStore",
                "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sluice-bench",
            dependencies: ["Parquet", "ObjectStore", "Pipeline"],
            path: "bench/Sources/sluice-bench"
        ),
        .testTarget(
            name: "ParquetTests",
            dependencies: ["Parquet"]
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "ObjectStore",
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
            name: "PipelineTests",
            dependencies: ["Pipeline", "Parquet"]
        ),
    ]
)
