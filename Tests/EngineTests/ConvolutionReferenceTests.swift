import Engine
import Foundation
import Testing

/// Every fast path (im2col + SGEMM, and the direct AVX-512 and AVX2 kernels that 3×3 same
/// convolutions take where the CPU has them) against the nested-loop convolution, and the SGEMM
/// wrapper against a triple loop.
@Suite struct ConvolutionReferenceTests {
  /// The paths to test: the direct kernels only run where the CPU has them (`.automatic` takes
  /// AVX-512's where it can, `.avx2` the AVX2 set).
  static let paths: [ConvolutionPath] = [.automatic, .avx2, .im2col]

  @Test(arguments: [
    (batch: 1, channels: 1, height: 5, width: 5, outputs: 2, kernel: 3, stride: 1, padding: 1),
    (batch: 3, channels: 2, height: 7, width: 6, outputs: 4, kernel: 3, stride: 2, padding: 0),
    (batch: 2, channels: 3, height: 8, width: 9, outputs: 5, kernel: 5, stride: 1, padding: 2),
    (batch: 2, channels: 4, height: 6, width: 6, outputs: 3, kernel: 1, stride: 1, padding: 0),
    (batch: 3, channels: 2, height: 9, width: 7, outputs: 2, kernel: 3, stride: 2, padding: 1),
    (batch: 1, channels: 1, height: 4, width: 9, outputs: 1, kernel: 5, stride: 2, padding: 2),
    (batch: 3, channels: 2, height: 11, width: 6, outputs: 3, kernel: 5, stride: 2, padding: 0),
    (batch: 1, channels: 3, height: 2, width: 3, outputs: 2, kernel: 3, stride: 1, padding: 2),
    (batch: 3, channels: 1, height: 5, width: 8, outputs: 2, kernel: 1, stride: 2, padding: 1),
    (batch: 64, channels: 16, height: 14, width: 14, outputs: 32, kernel: 3, stride: 1, padding: 1),
    // "Same" convolutions on images narrower than the kernel's reach (the shifted-plane path).
    (batch: 2, channels: 2, height: 2, width: 2, outputs: 3, kernel: 5, stride: 1, padding: 2),
    (batch: 3, channels: 1, height: 1, width: 1, outputs: 2, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 2, height: 3, width: 7, outputs: 2, kernel: 7, stride: 1, padding: 3),
    // Planes cut into bands of output rows (more than 512 output pixels).
    (batch: 3, channels: 2, height: 29, width: 25, outputs: 3, kernel: 3, stride: 1, padding: 1),
    (batch: 1, channels: 1, height: 40, width: 17, outputs: 2, kernel: 5, stride: 1, padding: 2),
    // Direct kernels: planes that end inside a block of 32 pixels or a vector of 16 (7×9,
    // 1×17, 5×3), output channels that are not a multiple of the block of 8, and the
    // reference shapes (32×32 with 3 and 32 channels).
    (batch: 3, channels: 5, height: 7, width: 9, outputs: 11, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 2, height: 1, width: 17, outputs: 3, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 3, height: 5, width: 3, outputs: 9, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 3, height: 32, width: 32, outputs: 32, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 32, height: 32, width: 32, outputs: 8, kernel: 3, stride: 1, padding: 1),
  ])
  func fastPathsMatchDirectLoops(
    batch: Int, channels: Int, height: Int, width: Int, outputs: Int, kernel: Int, stride: Int, padding: Int
  ) {
    var generator = SplitMix64(seed: UInt64(batch * 100 + kernel))
    let conv = Conv2d(
      name: "conv", inputChannels: channels, outputChannels: outputs, kernelSize: kernel, stride: stride,
      padding: padding, generator: &generator)
    let input = randomTensor([batch, channels, height, width], seed: 31)
    let slow = conv.referenceForward(input)
    for path in Self.paths {
      conv.path = path
      let fast = conv.forward(input, training: false)
      #expect(fast.shape == slow.shape)
      #expect(normalisedError(fast, slow) < 1e-5, "\(path)")
    }
  }

  /// The chunked backward (weight, bias and input gradients) against direct loops, on batches
  /// that make one chunk split inside (batch 1, also with a plane large enough for bands,
  /// which a batch split inside does not use), several images per chunk of unequal sizes
  /// (64 at 12×12), images cut into bands of output rows (32×32 and 27×23 planes, a short last
  /// band, 5×5 kernels), and strided convolutions (no bands).
  @Test(arguments: [
    (batch: 1, channels: 3, height: 9, width: 9, outputs: 4, kernel: 3, stride: 1, padding: 1),
    (batch: 64, channels: 4, height: 12, width: 12, outputs: 6, kernel: 3, stride: 1, padding: 1),
    (batch: 16, channels: 3, height: 32, width: 32, outputs: 8, kernel: 3, stride: 1, padding: 1),
    (batch: 3, channels: 2, height: 27, width: 23, outputs: 3, kernel: 5, stride: 1, padding: 2),
    (batch: 1, channels: 2, height: 33, width: 31, outputs: 2, kernel: 3, stride: 1, padding: 1),
    (batch: 5, channels: 2, height: 11, width: 9, outputs: 3, kernel: 3, stride: 2, padding: 0),
    (batch: 4, channels: 2, height: 40, width: 30, outputs: 3, kernel: 3, stride: 2, padding: 1),
    // Direct kernels: a small plane (its weight gradient by SGEMM) with 11 outputs; a plane
    // of 132 pixels (a partial vector) with an odd number of outputs (the last pair is one);
    // the batch in groups of 10 images with a shorter last one (64 at 12×12 above).
    (batch: 3, channels: 5, height: 7, width: 9, outputs: 11, kernel: 3, stride: 1, padding: 1),
    (batch: 2, channels: 3, height: 12, width: 11, outputs: 9, kernel: 3, stride: 1, padding: 1),
  ])
  func backwardMatchesDirectLoops(
    batch: Int, channels: Int, height: Int, width: Int, outputs: Int, kernel: Int, stride: Int, padding: Int
  ) {
    for path in Self.paths {
      for insideReplica in [false, true] {
        checkBackward(
          batch: batch, channels: channels, height: height, width: width, outputs: outputs, kernel: kernel,
          stride: stride, padding: padding, path: path, insideReplica: insideReplica)
      }
    }
  }

  /// One case of `backwardMatchesDirectLoops`, on `path`, called from a replica (engine loops
  /// serial) or not.
  private func checkBackward(
    batch: Int, channels: Int, height: Int, width: Int, outputs: Int, kernel: Int, stride: Int, padding: Int,
    path: ConvolutionPath, insideReplica: Bool
  ) {
    var generator = SplitMix64(seed: UInt64(batch + height))
    let conv = Conv2d(
      name: "conv", inputChannels: channels, outputChannels: outputs, kernelSize: kernel, stride: stride,
      padding: padding, generator: &generator)
    conv.path = path
    let input = randomTensor([batch, channels, height, width], seed: 51)
    var output = Tensor(shape: [0])
    var gradInput = Tensor(shape: [0])
    let gradOutput = randomTensor(conv.outputShape(for: input.shape) ?? [], seed: 52)
    let run = {
      output = conv.forward(input, training: true)
      gradInput = conv.backward(gradOutput, needs: BackwardNeeds())
    }
    if insideReplica { Parallel.replicas(1) { _ in run() } } else { run() }
    let (ho, wo) = (output.shape[2], output.shape[3])
    var dw = [Double](repeating: 0, count: conv.weight.value.count)
    var db = [Double](repeating: 0, count: outputs)
    var din = [Double](repeating: 0, count: input.count)
    for n in 0..<batch {
      for o in 0..<outputs {
        for y in 0..<ho {
          for x in 0..<wo {
            let g = Double(gradOutput.scalars[((n * outputs + o) * ho + y) * wo + x])
            db[o] += g
            for c in 0..<channels {
              for i in 0..<kernel {
                for j in 0..<kernel {
                  let (iy, ix) = (y * stride - padding + i, x * stride - padding + j)
                  guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                  let w = ((o * channels + c) * kernel + i) * kernel + j
                  let at = ((n * channels + c) * height + iy) * width + ix
                  dw[w] += g * Double(input.scalars[at])
                  din[at] += g * Double(conv.weight.value.scalars[w])
                }
              }
            }
          }
        }
      }
    }
    let tensor = { (shape: [Int], values: [Double]) in Tensor(shape: shape, scalars: values.map { Float($0) }) }
    let label = "\(path), inside a replica: \(insideReplica)"
    #expect(normalisedError(conv.weight.gradient, tensor(conv.weight.value.shape, dw)) < 1e-5, "\(label)")
    #expect(normalisedError(conv.bias!.gradient, tensor([outputs], db)) < 1e-5, "\(label)")
    #expect(normalisedError(gradInput, tensor(input.shape, din)) < 1e-5, "\(label)")
    // Only the input gradient: the parameters' gradients are left as they were.
    let before = conv.weight.gradient
    conv.weight.gradient = Tensor(shape: before.shape)
    let inputOnly = conv.backward(gradOutput, needs: BackwardNeeds(parameterGradients: false))
    #expect(normalisedError(inputOnly, gradInput) == 0)
    #expect(conv.weight.gradient.scalars.allSatisfy { $0 == 0 })
  }

  /// On a CPU with AVX-512 (as /proc/cpuinfo lists it), 3×3 same convolutions take the
  /// AVX-512 kernels, on one with AVX2 and FMA but not AVX-512 the AVX2 kernels, so that the
  /// tests above test them and not im2col twice; other shapes and `.im2col` do not.
  @Test func directKernelsRunWhereTheCPUHasThem() throws {
    let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { String($0) } ?? ""
    var generator = SplitMix64(seed: 5)
    let same = Conv2d(name: "c", inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, generator: &generator)
    let wide = Conv2d(name: "c", inputChannels: 2, outputChannels: 3, kernelSize: 5, padding: 2, generator: &generator)
    let strided = Conv2d(
      name: "c", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, generator: &generator)
    let has = { (flag: String) in flags.contains(" \(flag) ") }
    let avx2: DirectKernels? = has("avx2") && has("fma") ? .avx2 : nil
    let expected = getenv("I2X_CONV") != nil ? nil : has("avx512f") && has("avx512bw") ? .avx512 : avx2
    #expect(DirectConvolutionSupport.kernels == expected)
    #expect(same.directKernels == expected)
    #expect(!wide.takesDirectPath && !strided.takesDirectPath)
    same.path = .avx2
    #expect(same.directKernels == avx2)
    wide.path = .avx2
    #expect(!wide.takesDirectPath)
    same.path = .im2col
    #expect(!same.takesDirectPath)
  }

  /// Every transpose combination on odd sizes, including vectors and k = 1.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmMatchesTripleLoop(transposeA: Bool, transposeB: Bool) {
    for (m, n, k) in [(7, 13, 5), (1, 1, 1), (1, 9, 3), (9, 1, 7), (17, 33, 9), (5, 3, 1)] {
      let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 40)
      let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 41)
      let fast = Gemm.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
      let slow = Gemm.referenceMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
      #expect(fast.shape == [m, n])
      #expect(normalisedError(fast, slow) < 1e-6, "m=\(m) n=\(n) k=\(k)")
    }
  }

  /// A hand-checkable product: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]].
  @Test func gemmByHand() {
    let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    let b = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
    #expect(Gemm.matmul(a, b).scalars == [19, 22, 43, 50])
    // aᵀ·b = [[1,3],[2,4]]·b = [[26,30],[38,44]].
    #expect(Gemm.matmul(a, b, transposeA: true).scalars == [26, 30, 38, 44])
  }

  /// Large enough (m·n·k ≥ 2¹⁸) to take the multi-thread split path, in both split directions.
  @Test(arguments: [(64, 1000, 41), (1001, 63, 40)])
  func splitGemmMatchesTripleLoop(m: Int, n: Int, k: Int) {
    for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
      let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 42)
      let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 43)
      let fast = Gemm.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
      #expect(normalisedError(fast, Gemm.referenceMatmul(a, b, transposeA: transposeA, transposeB: transposeB)) < 1e-5)
    }
  }

  /// fold is the adjoint of expand: ⟨expand(x), c⟩ = ⟨x, fold(c)⟩ for any x, c.
  @Test func col2imIsTheAdjointOfIm2col() {
    let g = ConvGeometry(batch: 2, channels: 3, height: 5, width: 4, kernel: 3, stride: 2, padding: 1)
    let x = randomTensor([2, 3, 5, 4], seed: 50)
    let c = randomTensor([g.patchSize, g.batch * g.outputPixels], seed: 51)
    var expanded = Tensor(shape: c.shape)
    x.withPointer { xp in expanded.withMutablePointer { Im2col.expand(xp, into: $0, geometry: g) } }
    var folded = Tensor(shape: x.shape)
    c.withPointer { cp in folded.withMutablePointer { Im2col.fold(cp, into: $0, geometry: g) } }
    let left = zip(expanded.scalars, c.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let right = zip(x.scalars, folded.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(left - right) < 1e-4 * max(1, abs(left)))
  }
}
