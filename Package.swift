// swift-tools-version:6.0
// i2x: training-time introspection for image classifiers. No Swift package dependencies:
// the C libraries come from Debian through the system-library targets below.
import PackageDescription

let package = Package(
  name: "i2x",
  products: [
    .executable(name: "i2x-train", targets: ["Trainer"]),
    .executable(name: "i2x-bench", targets: ["Bench"]),
    .executable(name: "i2xd", targets: ["Daemon"]),
    .executable(name: "i2x", targets: ["Client"]),
    .executable(name: "i2x-crosscheck", targets: ["CrossCheck"]),
  ],
  targets: [
    // C libraries (apt providers named so SwiftPM can say what to install).
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib",
      providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CSQLite", path: "Sources/CSQLite",
      providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(
      name: "CPostgreSQL", path: "Sources/CPostgreSQL",
      providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
      name: "CZeroMQ", path: "Sources/CZeroMQ",
      providers: [.apt(["libzmq3-dev"])]),
    // glibc process control (prctl) for the daemon's analysis processes.
    .systemLibrary(name: "CProcess", path: "Sources/CProcess"),

    // Libraries.
    // Direct 3×3 convolution kernels over a shifted-plane layout (ShiftedPlanes, baseline
    // code): in 16-float vectors compiled for AVX-512 (DirectConv), and in 8-float vectors
    // compiled for AVX2 + FMA (DirectConvAVX2). The engine calls the best set the CPU has
    // (Engine's DirectConvolutionSupport) and uses im2col + SGEMM on a CPU with neither.
    // Optimised in debug builds too: unoptimised, their vector code runs about a hundred times
    // slower than im2col + SGEMM (OpenBLAS is optimised either way), and the debug test suite's
    // training and analysis would time out.
    .target(name: "ShiftedPlanes", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
    .target(
      name: "DirectConv", dependencies: ["ShiftedPlanes"],
      swiftSettings: [
        .unsafeFlags(["-target-cpu", "skylake-avx512"]), .unsafeFlags(["-O"], .when(configuration: .debug)),
      ]),
    .target(
      name: "DirectConvAVX2", dependencies: ["ShiftedPlanes"],
      swiftSettings: [
        .unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug)),
      ]),
    .target(name: "Engine", dependencies: ["COpenBLAS", "ShiftedPlanes", "DirectConv", "DirectConvAVX2"]),
    .target(name: "Checkpoints"),
    .target(name: "Models", dependencies: ["Engine", "Checkpoints"]),
    .target(name: "Datasets", dependencies: ["CZlib", "Engine"]),
    .target(name: "Prototypes", dependencies: ["Engine", "Models", "COpenBLAS", "Checkpoints"]),
    .target(name: "CLI"),
    .target(name: "Wire", dependencies: ["CZeroMQ", "CLI"]),
    .target(name: "Store", dependencies: ["CSQLite", "CPostgreSQL", "Checkpoints"]),
    .target(name: "Imaging", dependencies: ["CZlib"]),
    // Inline SVG charts for the HTML report (axes, nice ticks, line charts, viridis heat maps).
    .target(name: "Charts"),
    .target(
      name: "ClientCore",
      dependencies: ["Wire", "CLI", "CZlib", "Checkpoints", "Imaging", "Explainer", "Charts", "Prototypes"]),
    // The data-free explainer (DESIGN §8): generative prior, guided sampling, scores.
    .target(
      name: "Explainer", dependencies: ["Engine", "Models", "Checkpoints", "Prototypes", "Imaging", "COpenBLAS"]),
    .target(
      name: "DaemonCore",
      dependencies: [
        "Store", "Wire", "Models", "Checkpoints", "CLI", "CZeroMQ", "CProcess", "Prototypes", "Engine", "Explainer",
        "Imaging",
      ]),
    .target(
      name: "Training",
      dependencies: [
        "Engine", "Models", "Checkpoints", "Datasets", "Prototypes", "CLI", "Wire", "Explainer", "Imaging",
      ]),
    // Benchmarks (i2x-bench): here, not in Training, so the trainer does not depend on the daemon.
    .target(
      name: "Benchmarks",
      dependencies: [
        "Training", "DaemonCore", "Engine", "Models", "Checkpoints", "Datasets", "Prototypes", "Wire", "Explainer",
      ]),

    // Executables: thin wiring over the libraries.
    .executableTarget(name: "Trainer", dependencies: ["Training", "CLI"]),
    .executableTarget(name: "Daemon", dependencies: ["DaemonCore", "CLI"]),
    .executableTarget(name: "Client", dependencies: ["ClientCore", "CLI"]),
    .executableTarget(name: "Bench", dependencies: ["Benchmarks", "CLI"]),
    .executableTarget(name: "CrossCheck", dependencies: ["Prototypes", "CLI", "Explainer"]),

    // Tests.
    .testTarget(name: "EngineTests", dependencies: ["Engine"]),
    .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Checkpoints", "Engine"], exclude: ["Fixtures"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
    .testTarget(
      name: "PrototypesTests", dependencies: ["Prototypes", "Models", "Checkpoints", "Engine"],
      exclude: ["Fixtures"]),
    .testTarget(name: "CLITests", dependencies: ["CLI"]),
    .testTarget(name: "ClientTests", dependencies: ["ClientCore", "CZlib", "Imaging", "Charts"]),
    .testTarget(name: "ChartsTests", dependencies: ["Charts"]),
    .testTarget(name: "ExplainerTests", dependencies: ["Explainer", "Engine", "Models", "Checkpoints", "Imaging"]),
    .testTarget(name: "WireTests", dependencies: ["Wire"]),
    // A real PostgreSQL server for the tests (initdb in a temporary directory).
    .target(name: "PostgreSQLTestSupport", dependencies: ["Store"], path: "Tests/PostgreSQLTestSupport"),
    .testTarget(name: "StoreTests", dependencies: ["Store", "PostgreSQLTestSupport"]),
    .testTarget(
      name: "EndToEndTests", dependencies: ["Wire", "Checkpoints", "Store", "CZlib", "PostgreSQLTestSupport"]),
    .testTarget(
      name: "DaemonTests",
      dependencies: [
        "DaemonCore", "Wire", "Store", "Checkpoints", "Models", "Engine", "Explainer", "PostgreSQLTestSupport",
      ]),
    .testTarget(
      name: "TrainingTests",
      dependencies: ["Training", "Checkpoints", "Datasets", "CLI", "Prototypes", "Wire", "Engine", "Models"]),
  ]
)
