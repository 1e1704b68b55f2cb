// swift-tools-version: 6.0
// A project of its own that gates a model in `swift test` with Vigil, depending on it as a
// package. Here Vigil is the repository two folders up; in your project it is
//     .package(url: "https://github.com/<owner>/Vigil", from: "0.1.0")
// Vigil links OpenCV, Cairo and libcrypto through pkg-config: build with PKG_CONFIG_PATH set as
// the repository's Makefile sets it (see README.md).
import PackageDescription

let package = Package(
    name: "ModelGate",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Vigil", path: "../.."),
    ],
    targets: [
        .testTarget(name: "ModelGateTests", dependencies: [
            .product(name: "Vigil", package: "Vigil"),
            .product(name: "VigilTesting", package: "Vigil"),
        ]),
    ]
)
