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
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        // grpc-swift-nio-transport's own dependencies; `serve` answers gRPC on them directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        // libpython from Debian's python3-dev, through pkg-config's python-3.11-embed.
        .systemLibrary(
            name: "CPython",
            path: "Sources/CPython",
            pkgConfig: "python-3.11-embed",
            providers: [.apt(["python3.11-dev"])]
        ),
        // epoll, eventfd, sockets (epoll and eventfd are not in Swift's Glibc module) for `serve`'s own I/O threads.
        .target(name: "CServeEvents"),
        // `serve`'s sockets and threads: NIO channels of our own served by two I/O threads. Apart from
        // PolicyServer so that no module graph holds both CPython's headers and libc's socket calls.
        .target(
            name: "ServeTransport",
            dependencies: [
                "CServeEvents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // `PlainValue`: plain data under everything. Imports nothing, not even Foundation, so that
        // PythonRuntime (which sees CPython's headers, whose fd_set clashes with Foundation's) can use it.
        .target(
            name: "PlainData",
            swiftSettings: swiftSettings
        ),
        // PlainData plus JSON (with Foundation), re-exported: what every target above the runtime imports.
        .target(
            name: "PolicyValues",
            dependencies: ["PlainData"],
            swiftSettings: swiftSettings
        ),
        // The only target that sees the C API; adds the conversions between PlainValue and Python.
        .target(
            name: "PythonRuntime",
            dependencies: ["CPython", "PlainData"],
            swiftSettings: swiftSettings
        ),
        // libyaml's event stream, to bound YAML before Yams builds nodes recursively. Apart from
        // HostCore because libyaml's and CPython's headers cannot meet in one module graph.
        .target(
            name: "YAMLScan",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The base of the domain: errors and exit statuses, the pack manifest, Go-style JSON decoding,
        // child processes (run, track, kill) and gzip. Dependencies point down only:
        // HostCore <- PythonEnv <- PolicyPack <- PackStore <- PolicyServer, PolicyHostCLI.
        .target(
            name: "HostCore",
            dependencies: [
                "PolicyValues",
                "YAMLScan",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Python environments: interpreters and version requests, the venv plan (pure) and its
        // execution, installers (pip, uv, poetry), stamps and locks.
        .target(
            name: "PythonEnv",
            dependencies: [
                "HostCore",
                // Only for the version of the linked libpython, which a venv must match.
                "PythonRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // A policy pack at work: config, stack files and their engine encoding, the typed protocol
        // with the driver, sessions (embedded or out of process), analysis, reports, scaffolding.
        .target(
            name: "PolicyPack",
            dependencies: [
                "HostCore",
                "PythonEnv",
                "PolicyValues",
                "PythonRuntime",
                .product(name: "Yams", package: "Yams"),
                // AES-GCM and PBKDF2 for the passphrase secrets provider (Stack/Secrets).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            // The Python that runs in the embedded interpreter, compiled in by SwiftPM
            // (`PackageResources`, read by Runtime/DriverSources.swift).
            resources: [
                .embedInCode("Python/policy_host_driver"),
                .embedInCode("Python/policy_host_loader.py"),
                .embedInCode("Python/sdk_server_hook.py"),
            ],
            swiftSettings: swiftSettings
        ),
        // Packs at rest: tar, gitignore, pack archives, installed packs, policy groups.
        .target(
            name: "PackStore",
            dependencies: ["HostCore", "PythonEnv", "PolicyPack", "PolicyValues"],
            swiftSettings: swiftSettings
        ),
        // The Analyzer gRPC service; the only target that sees gRPC. Its protocol code is generated
        // once by scripts/generate-protos.sh and committed.
        .target(
            name: "PolicyServer",
            dependencies: [
                "HostCore",
                "PolicyPack",
                "PolicyValues",
                "ServeTransport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PolicyHostCLI",
            dependencies: [
                "HostCore",
                "PythonEnv",
                "PolicyPack",
                "PackStore",
                "PolicyServer",
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
            dependencies: ["PythonRuntime", "PolicyValues"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PolicyHostTests",
            dependencies: ["HostCore", "PythonEnv", "PolicyPack", "PackStore", "PolicyHostCLI", "PolicyValues", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Test helpers for the integration tests: fixture copies, golden files with scrubbing.
        .target(
            name: "TestSupport",
            dependencies: ["PolicyHostCLI", "PythonRuntime"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["HostCore", "PythonEnv", "PolicyPack", "PackStore", "PolicyServer", "PolicyHostCLI", "PolicyValues", "TestSupport",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHPACK", package: "swift-nio-http2"),
                           .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           "ServeTransport"],
            swiftSettings: swiftSettings
        ),
    ]
)
