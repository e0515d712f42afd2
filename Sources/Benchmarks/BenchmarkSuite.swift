import Datasets
import Engine
import Foundation
import Models
import Prototypes
import Training

/// The figures `i2x-bench` prints, one JSON object per line.
public struct BenchmarkSuite {
  /// Usage text.
  public static let help = """
    USAGE: i2x-bench [--quick] [train] [gradcam] [gemm] [convs] [publish] [ingest] [analysis] [finetune] [growth] [explainer] [stages] [locality]
                     [fairness] [shared]

    Prints one JSON line per figure: training images/s and CPU µs per image (smallcnn,
    smallcnn-bn, cifarcnn; batch 64, after warm-up; I2X_BENCH_ARCHS=a,b picks some), GradCAM images/s (smallcnn; batch 64 and 1), SGEMM GFLOP/s (1024³ and the conv
    shapes), each 3×3 convolution layer's forward, weight and input gradient (µs per image and
    GFLOP/s at a replica's batch of 32 on one thread, each set of direct kernels the CPU runs,
    AVX-512 and AVX2, against im2col + SGEMM; I2X_CONV=im2col turns the direct kernels off
    everywhere, I2X_CONV=avx2 keeps to the AVX2 set), training with and without publishing to a daemon, daemon ingest rate and query
    latency (p50/p99), and per-checkpoint analysis time by stage while smallcnn-bn trains on
    Fashion-MNIST publishing every 200 steps (with the queue depth once a second), and the
    fine-tune loop under the auto policy: seconds from flag to directive delivery, the segment's
    seconds and images/s, and 'growth': per-checkpoint analysis time over a run publishing every
    10 steps up to I2X_BENCH_CHECKPOINTS checkpoints (500) with the ratio of late to early
    ('analysis', 'finetune' and 'growth' are not in the default set: they train for minutes), and
    'explainer': generator training seconds and images/s, seconds per guided sample, and one
    class's explanation (not in the default set either), 'stages': the I2X core's seconds per
    checkpoint by stage, in process (GradCAM, vocabulary cold and warm, the run analysis;
    faithfulness apart), wall and CPU, and 'locality': where counterfactuals made for uncertain
    prototypes edit (IoU with the prototype's cells against a random other prototype's), and
    'fairness': I2X_BENCH_TRAINERS (4) i2x-train processes publishing to one daemon at once,
    the lag per run and how evenly the analyses were shared (none of the last three is in the
    default set), and 'shared': ingest, query latency and the queue's cost per job on the
    embedded store and on the PostgreSQL database at I2X_BENCH_POSTGRESQL (not in the default
    set; scripts/bench-postgresql.sh starts a server for it and adds the analysis throughput of
    one and two pinned workers). Set OPENBLAS_CORETYPE=SkylakeX before starting to enable OpenBLAS's AVX-512
    kernels on Zen 5 (only on a CPU with AVX-512: elsewhere they are an illegal instruction).

    OPTIONS:
      --quick   fewer repetitions (for CI smoke runs)
      -h, --help  show this help
    """

  /// Fewer repetitions when true.
  public var quick: Bool

  /// Creates the suite.
  public init(quick: Bool) { self.quick = quick }

  /// Runs the selected groups (all when empty), emitting JSON lines.
  public func run(only: Set<String>, emit: (String) -> Void) throws {
    let known: Set = [
      "train", "gradcam", "gemm", "convs", "publish", "ingest", "analysis", "finetune", "growth", "explainer", "stages",
      "locality", "fairness", "shared",
    ]
    if let unknown = only.subtracting(known).first {
      throw TrainingError(
        "unknown benchmark '\(unknown)'; choose from \(known.sorted().joined(separator: ", "))", exitCode: .usage)
    }
    let groups =
      only.isEmpty
      ? known.subtracting(["analysis", "finetune", "growth", "explainer", "locality", "fairness", "shared"]) : only
    if groups.contains("gemm") { gemm(emit) }
    if groups.contains("convs") { convs(emit) }
    if groups.contains("train") {
      // I2X_BENCH_ARCHS=a,b limits the architectures (for profiling one).
      let chosen = ProcessInfo.processInfo.environment["I2X_BENCH_ARCHS"]?.split(separator: ",").map(String.init)
      for name in chosen ?? ["smallcnn", "smallcnn-bn", "cifarcnn"] { try train(name, emit) }
    }
    if groups.contains("gradcam") {
      for batch in [64, 1] { try gradcam(batch: batch, emit) }
    }
    if groups.contains("publish") { try publishOverhead(emit) }
    if groups.contains("ingest") { try ingestAndQueries(emit) }
    if groups.contains("analysis") { try analysis(emit) }
    if groups.contains("finetune") { try finetune(emit) }
    if groups.contains("growth") { try growth(emit) }
    if groups.contains("explainer") { try explainer(emit) }
    if groups.contains("stages") { try stages(emit) }
    if groups.contains("locality") { try locality(emit) }
    if groups.contains("fairness") { try fairness(emit) }
    if groups.contains("shared") { try shared(emit) }
  }

  private var environment: [String: Any] {
    [
      "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "",
      // Whether 3×3 same convolutions take direct kernels (I2X_CONV=im2col: no), and which.
      "direct_convolutions": DirectConvolutionSupport.available,
      "direct_kernels": DirectConvolutionSupport.kernels?.rawValue ?? "none",
      "threads": Parallel.workers,
    ]
  }

  func line(_ fields: [String: Any]) -> String {
    let merged = fields.merging(environment) { a, _ in a }
    guard let data = try? JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]) else {
      return "{}"
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// Seconds per call of `body`, median of `repeats` timed rounds of `inner` calls, after
  /// `warmUp` calls.
  private func time(repeats: Int, inner: Int, warmUp: Int = 1, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmUp { try body() }
    var samples: [Double] = []
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<inner { try body() }
      samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(inner))
    }
    return samples.sorted()[samples.count / 2]
  }

  private func gemm(_ emit: (String) -> Void) {
    // (m, n, k): 1024³ and the forward GEMMs of smallcnn / cifarcnn convs at batch 64.
    let shapes: [(String, Int, Int, Int)] = [
      ("1024^3", 1024, 1024, 1024),
      ("smallcnn.conv2", 32, 64 * 14 * 14, 16 * 9),
      ("smallcnn.conv3", 64, 64 * 7 * 7, 32 * 9),
      ("cifarcnn.conv2", 32, 64 * 32 * 32, 32 * 9),
      ("cifarcnn.conv5", 128, 64 * 8 * 8, 64 * 9),
    ]
    var generator = SplitMix64(seed: 7)
    for (name, m, n, k) in shapes {
      let a = Tensor.uniform(shape: [m, k], bound: 1, using: &generator)
      let b = Tensor.uniform(shape: [k, n], bound: 1, using: &generator)
      let seconds = time(repeats: quick ? 3 : 7, inner: quick ? 2 : 5) { _ = Gemm.matmul(a, b) }
      emit(
        line([
          "figure": "gemm", "shape": name, "m": m, "n": n, "k": k, "gflops": 2.0 * Double(m * n * k) / seconds / 1e9,
        ]))
    }
  }

  /// Training images/s through the trainer's own code path (`TrainingLoop.step`: a batch
  /// filled from the dataset's bytes, forward with BatchNorm in training mode, loss, backward,
  /// SGD step) on real Fashion-MNIST for the 28×28 models (synthetic with `--quick`) and on
  /// seeded random bytes of CIFAR's shape for cifarcnn (no CIFAR package in Debian).
  private func train(_ name: String, _ emit: (String) -> Void) throws {
    guard let architecture = Architecture.reference(name) else { return }
    let (data, source) = try trainingImages(architecture)
    let network = try architecture.build(seed: 1)
    let loop = TrainingLoop(
      network: network, rule: SGD(learningRate: 0.01, momentum: 0.9), batchSize: 64,
      replica: TrainingLoop.canSplitBatches(network) ? try architecture.build(seed: 1) : nil)
    let order = TrainingLoop.epochOrder(Array(0..<data.count), seed: 1, epoch: 0)
    var cursor = 0
    var steps = 0
    let cpuBefore = ProcessClock.cpuSeconds()
    // The same warm-up and windows as scripts/bench-pytorch.py: 50 steps, then 5 × 20 (10, then
    // 5 × 5 for cifarcnn). PyTorch's first few dozen steps run slower than its epoch; with 10
    // warm-up steps and windows of 10 its smallcnn-bn figure was up to a third below the one
    // the same loop reached after 300 steps.
    let small = architecture.input == [1, 28, 28]
    let (warmUp, inner) = quick ? (1, 3) : small ? (50, 20) : (10, 5)
    let seconds = try time(repeats: quick ? 3 : 5, inner: inner, warmUp: warmUp) {
      if cursor + 64 > order.count { cursor = 0 }
      try loop.step(on: data, indices: order[cursor..<(cursor + 64)])
      cursor += 64
      steps += 1
    }
    // CPU time per image (all threads): the figure that stays comparable when other work
    // shares the cores.
    let cpu = (ProcessClock.cpuSeconds() - cpuBefore) / Double(64 * steps)
    emit(
      line([
        "figure": "train", "arch": name, "batch": 64, "images_per_second": 64 / seconds, "data": source,
        "path": "TrainingLoop.step", "cpu_microseconds_per_image": 1e6 * cpu,
      ]))
  }

  /// The training images the `train` figure uses for `architecture`, and their source.
  private func trainingImages(_ architecture: Architecture) throws -> (LabeledImages, String) {
    if architecture.input == [1, 28, 28] {
      let name = quick ? "synthetic" : "fashion-mnist"
      return (try DatasetCatalog.load(name: name, dataDirectory: nil, seed: 1).train, name)
    }
    var generator = SplitMix64(seed: 11)
    let count = 2048
    let size = architecture.input.reduce(1, *)
    let pixels = (0..<(count * size)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    let images = LabeledImages(
      channels: architecture.input[0], height: architecture.input[1], width: architecture.input[2], pixels: pixels,
      labels: (0..<count).map { $0 % architecture.classes },
      classNames: (0..<architecture.classes).map { "class \($0)" })
    return (images, "random-bytes")
  }

  private func gradcam(batch: Int, _ emit: (String) -> Void) throws {
    guard let architecture = Architecture.reference("smallcnn") else { return }
    let pipeline = CAMPipeline(network: try architecture.build(seed: 1))
    var generator = SplitMix64(seed: 5)
    let images = Tensor.uniform(shape: [batch] + architecture.input, bound: 1, using: &generator)
    let inner = max(1, (quick ? 64 : 640) / batch)
    let seconds = time(repeats: quick ? 3 : 5, inner: inner) {
      _ = pipeline.run(images, target: .predicted).upsampled(height: 28, width: 28)
    }
    emit(line(["figure": "gradcam", "arch": "smallcnn", "batch": batch, "images_per_second": Double(batch) / seconds]))
  }
}
