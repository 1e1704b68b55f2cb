// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Vigil", targets: ["Vigil"]),
        .library(name: "VigilStore", targets: ["VigilStore"]),
        .library(name: "VigilReport", targets: ["VigilReport"]),
        .library(name: "VigilTesting", targets: ["VigilTesting"]),
        .executable(name: "vigil", targets: ["vigil"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries: pkg-config supplies include paths and link flags, so no target
        // needs unsafeFlags (which would make Vigil unusable as a versioned dependency).
        .systemLibrary(name: "COpenCV", pkgConfig: "opencv4",
                       providers: [.apt(["libopencv-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .target(name: "CVBridge", dependencies: ["COpenCV"]),
        .target(name: "Vigil", dependencies: [
            "CVBridge", "CLibCrypto",
            .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "CSV", package: "CSV.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Metrics/METRICS.md", "Scenarios/SCENARIOS.md"]),
        .target(name: "VigilStore", dependencies: [
            "Vigil", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "CSV", package: "CSV.swift"),
        ], exclude: ["SCHEMA.md"]),
        .target(name: "VigilReport", dependencies: [
            "Vigil", "CCairo", .product(name: "Mustache", package: "swift-mustache"),
        ]),
        .target(name: "VigilTesting", dependencies: ["Vigil", "VigilStore", "VigilReport"]),
        .executableTarget(name: "vigil", dependencies: [
            "Vigil", "VigilStore", "VigilReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Mutation fuzzing of the file readers: the library (also run by a smoke test) and
        // `vigil-fuzz` for `make fuzz`.
        .target(name: "VigilFuzzing", dependencies: ["Vigil"]),
        .executableTarget(name: "vigil-fuzz", dependencies: ["Vigil", "VigilFuzzing"]),
        // Helpers shared by the test targets (paths, temporary folders, exact JSON fixtures).
        .target(name: "VigilTestSupport", dependencies: ["Vigil"], path: "Tests/VigilTestSupport"),
        .testTarget(name: "VigilTests", dependencies: ["Vigil", "CVBridge", "VigilTestSupport", "VigilFuzzing"], exclude: ["Fixtures"]),
        .testTarget(name: "VigilStoreTests", dependencies: ["VigilStore", "VigilTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "VigilReportTests", dependencies: ["VigilReport", "VigilTestSupport"]),
        .testTarget(name: "VigilTestingTests", dependencies: ["VigilTesting", "VigilStore"]),
        .testTarget(name: "vigilTests", dependencies: ["vigil", "Vigil", "VigilTestSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams")]),
    ],
    cxxLanguageStandard: .cxx17
)
