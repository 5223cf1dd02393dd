// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "policy-host",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "policy-host", targets: ["policy-host"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libpython from Debian's python3-dev, through pkg-config's python-3.11-embed.
        .systemLibrary(
            name: "CPython",
            path: "Sources/CPython",
            pkgConfig: "python-3.11-embed",
            providers: [.apt(["python3.11-dev"])]
        ),
        // The only target that sees the C API.
        .target(
            name: "PythonRuntime",
            dependencies: ["CPython"],
            swiftSettings: swiftSettings
        ),
        // Domain: manifest, venvs, stack files, marshaling, config, analysis, reports.
        .target(
            name: "PolicyHost",
            dependencies: [
                "PythonRuntime",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PolicyHostCLI",
            dependencies: [
                "PolicyHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "policy-host",
            dependencies: ["PolicyHostCLI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PythonRuntimeTests",
            dependencies: ["PythonRuntime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PolicyHostTests",
            dependencies: ["PolicyHost", "PolicyHostCLI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PolicyHost"],
            swiftSettings: swiftSettings
        ),
    ]
)
