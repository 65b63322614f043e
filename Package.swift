// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Segmenter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "segmenter", targets: ["segmenter"]),
        .library(name: "SegmenterCore", targets: ["SegmenterCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // Pure: events, features, standardiser, k-means, assignment, names, generator. No I/O.
        .target(
            name: "SegmenterCore",
            // The core is pure number crunching: optimise it in debug builds too, so the test suite can run the
            // end-to-end quality tests on realistic volumes in seconds.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // The only C: librdkafka (and its mock cluster) through a shim header.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(name: "SegmenterKafka", dependencies: ["CRdKafka"]),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SegmenterStore", dependencies: ["CSQLite"]),
        .target(
            name: "SegmenterDaemon",
            dependencies: [
                "SegmenterCore", "SegmenterKafka", "SegmenterStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "segmenter",
            dependencies: [
                "SegmenterDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SegmenterCoreTests", dependencies: ["SegmenterCore"]),
        .testTarget(name: "SegmenterKafkaTests", dependencies: ["SegmenterKafka"]),
        .testTarget(name: "SegmenterStoreTests", dependencies: ["SegmenterStore"]),
        .testTarget(
            name: "SegmenterDaemonTests",
            dependencies: [
                "SegmenterDaemon",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
