/// 2-D convolution (cross-correlation, as PyTorch): im2col + SGEMM over chunks of the batch,
/// or, for a 3×3 "same" convolution on a CPU with AVX-512 or AVX2, direct kernels (`Conv2d+Direct`).
///
/// `out[n,o,y,x] = b[o] + Σ_{c,i,j} W[o,c,i,j] · in[n,c,y·s−p+i, x·s−p+j]`;
/// in (N,C,H,W) → out (N,O,Ho,Wo) with `Ho = (H + 2p − k)/s + 1`. Weight OIHW (`weight`),
/// optional bias (`bias`), PyTorch's default initialisation (Kaiming-uniform, a = √5).
public final class Conv2d: Layer {
  public let name: String
  /// Input channels C.
  public let inputChannels: Int
  /// Output channels O.
  public let outputChannels: Int
  /// Square kernel size k.
  public let kernelSize: Int
  /// Stride s.
  public let stride: Int
  /// Zero padding p.
  public let padding: Int
  /// Weight (O,C,k,k).
  public let weight: Parameter
  /// Bias (O), if any.
  public let bias: Parameter?

  /// The last forward's input (for the backward pass, which re-expands it chunk by chunk).
  private var lastInput = Tensor(shape: [0])
  private var geometry: ConvGeometry?
  let scratch = WorkerScratch()
  /// Which implementation runs (`.automatic`: the direct kernels where they apply).
  public var path: ConvolutionPath = .automatic

  /// Creates a convolution initialised like PyTorch's `nn.Conv2d` from `generator`.
  public init<G: RandomNumberGenerator>(
    name: String, inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Int = 0, bias: Bool = true, generator: inout G
  ) {
    self.name = name
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    let fanIn = inputChannels * kernelSize * kernelSize
    let bound = Float(1 / Double(fanIn).squareRoot())  // kaiming_uniform(a=√5) == U(±1/√fanIn)
    let shape = [outputChannels, inputChannels, kernelSize, kernelSize]
    self.weight = Parameter(name: "weight", value: .uniform(shape: shape, bound: bound, using: &generator))
    self.bias =
      bias
      ? Parameter(name: "bias", value: .uniform(shape: [outputChannels], bound: bound, using: &generator))
      : nil
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  public func outputShape(for inputShape: [Int]) -> [Int]? {
    guard inputShape.count == 4, inputShape[1] == inputChannels,
      let height = ConvGeometry.outputSize(
        input: inputShape[2], kernel: kernelSize, stride: stride, padding: padding),
      let width = ConvGeometry.outputSize(
        input: inputShape[3], kernel: kernelSize, stride: stride, padding: padding)
    else { return nil }
    return [inputShape[0], outputChannels, height, width]
  }

  private func geometry(for shape: [Int]) -> ConvGeometry {
    ConvGeometry(
      batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
      kernel: kernelSize, stride: stride, padding: padding)
  }

  // Per chunk of images: in (b,C,H,W) -> cols (Ck², b·P) -> gemm W(O,Ck²)·cols -> (O, b·P)
  // -> out (b,O,Ho,Wo). Chunks keep the GEMM's operands in cache; one whole-batch im2col of
  // a 64-image 32×32 batch is 75 MB, and its GEMM ran at a third of the cache-resident rate.
  // A same convolution's large plane is cut into bands of output rows (one image each).
  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure(
        "\(name): input \(input.shape) does not fit Conv2d(\(inputChannels)→\(outputChannels), k=\(kernelSize), p=\(padding))"
      )
    }
    let g = geometry(for: input.shape)
    geometry = g
    lastInput = input
    if let kernels = directKernels { return directForward(input, outputShape: outShape, kernels: kernels) }
    let plan = chunks(g)
    let pixels = g.outputPixels
    let (inputPlane, outputPlane) = (g.channels * g.height * g.width, outputChannels * pixels)
    let widest = plan.widestColumns
    scratch.reserve(workers: plan.workers, count: (g.patchSize + outputChannels) * widest)
    let biasValues = bias?.value.scalars
    var output = Tensor(shape: outShape) { _ in }
    input.withPointer { x in
      weight.value.withPointer { w in
        output.withMutablePointer { out in
          let shared = UncheckedPointer(out)
          plan.run { worker, piece in
            guard let out = shared.pointer else { return }
            let images = piece.images
            let columns = plan.columns(piece)
            let cols = scratch.buffer(worker)
            Im2col.expand(
              x + images.lowerBound * inputPlane, into: cols, geometry: sub(g, images.count), parallel: plan.inside,
              outputRows: piece.rows)
            // One image: the product (O, band) is the image's output planes already (rows of
            // stride P).
            let single = images.count == 1
            let offset = plan.firstPixel(piece)
            let product = single ? out + images.lowerBound * outputPlane + offset : cols + g.patchSize * widest
            Gemm.multiply(
              m: outputChannels, n: columns, k: g.patchSize, a: w, lda: g.patchSize, b: cols, ldb: columns,
              c: product, ldc: single ? pixels : columns, parallel: plan.inside)
            for (index, n) in images.enumerated() {
              for o in 0..<outputChannels {
                let target = out + n * outputPlane + o * pixels + offset
                let count = single ? columns : pixels
                let source = single ? target : product + o * columns + index * pixels
                if let b = biasValues?[o] {
                  for p in 0..<count { target[p] = source[p] + b }
                } else if !single {
                  target.update(from: source, count: count)
                }
              }
            }
          }
        }
      }
    }
    return output
  }

  /// The chunk plan of geometry `g`: bands of output rows only for a same convolution (whose
  /// input gradient needs no col2im across band edges).
  private func chunks(_ g: ConvGeometry) -> ConvChunks {
    ConvChunks(
      batch: g.batch, outputHeight: g.outputHeight, outputWidth: g.outputWidth,
      bands: stride == 1 && g.outputHeight == g.height && g.outputWidth == g.width)
  }

  private func sub(_ g: ConvGeometry, _ batch: Int, channels: Int? = nil) -> ConvGeometry {
    ConvGeometry(
      batch: batch, channels: channels ?? g.channels, height: g.height, width: g.width, kernel: kernelSize,
      stride: stride, padding: padding)
  }

  // Per chunk: gout (b,O,Ho,Wo) -> g (O, b·P); dW += g·colsᵀ (cols re-expanded from the saved
  // input); db += Σ g; dcols = Wᵀ·g -> col2im -> din (b,C,H,W). Each worker sums its own dW,
  // added up at the end. A "same" convolution (stride 1, output size = input size) takes its
  // input gradient as the same convolution of gout with the flipped, transposed kernel
  // (din[c,y,x] = Σ W[o,c,k−1−i,k−1−j]·gout[o,y−p+i,x−p+j]): one GEMM with inner size O·k²
  // instead of one with inner size O followed by col2im; a band of its rows is a band of
  // din's rows.
  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    guard let g = geometry else { preconditionFailure("\(name): backward before forward") }
    precondition(
      gradOutput.shape == [g.batch, outputChannels, g.outputHeight, g.outputWidth],
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    guard needs.parameterGradients || needs.inputGradient else { return Tensor(shape: [0]) }
    if let kernels = directKernels {
      // The weight gradient of a small plane runs faster as one SGEMM over the batch.
      let direct = DirectConvolutionSupport.weightGradientIsDirect(height: g.height, width: g.width, kernels: kernels)
      if needs.parameterGradients && !direct {
        _ = im2colBackward(gradOutput, geometry: g, needs: BackwardNeeds(inputGradient: false))
      }
      return directBackward(
        gradOutput, input: lastInput,
        needs: BackwardNeeds(
          inputGradient: needs.inputGradient, parameterGradients: needs.parameterGradients && direct),
        kernels: kernels)
    }
    return im2colBackward(gradOutput, geometry: g, needs: needs)
  }

  private func im2colBackward(_ gradOutput: Tensor, geometry g: ConvGeometry, needs: BackwardNeeds) -> Tensor {
    let plan = chunks(g)
    let pixels = g.outputPixels
    let (inputPlane, outputPlane) = (g.channels * g.height * g.width, outputChannels * pixels)
    let widest = plan.widestColumns
    let weights = outputChannels * g.patchSize
    let same = plan.bands
    let gradientPatch = outputChannels * kernelSize * kernelSize
    // Per worker: cols (Ck², b·P), gathered g (O, b·P), dcols (Ck², b·P; for a same
    // convolution gout's cols, Ok² × b·P), dW (O, Ck²), db (O).
    let (gatheredAt, dcolsAt) = (g.patchSize * widest, (g.patchSize + outputChannels) * widest)
    let dwAt = dcolsAt + max(g.patchSize, same ? gradientPatch : 0) * widest
    let dbAt = dwAt + weights
    let flipped = same && needs.inputGradient ? flippedWeight() : Tensor(shape: [0])
    scratch.reserve(workers: plan.workers, count: dbAt + outputChannels)
    var gradInput =
      needs.inputGradient ? Tensor(shape: [g.batch, g.channels, g.height, g.width]) { _ in } : Tensor(shape: [0])
    lastInput.withPointer { x in
      weight.value.withPointer { w in
        gradOutput.withPointer { gout in
          gradInput.withMutablePointer { din in
            let target = UncheckedPointer(din)
            plan.run { worker, piece in
              let images = piece.images
              let base = scratch.buffer(worker)
              let columns = plan.columns(piece)
              let first = plan.isFirst(piece, ofWorker: worker)
              let single = images.count == 1
              let offset = plan.firstPixel(piece)
              // One image: its gradient planes are g (O, band) already (rows of stride P).
              var gm = UnsafePointer(gout + images.lowerBound * outputPlane + offset)
              if !single {
                let gathered = base + gatheredAt
                for (index, n) in images.enumerated() {
                  for o in 0..<outputChannels {
                    (gathered + o * columns + index * pixels).update(
                      from: gout + n * outputPlane + o * pixels, count: pixels)
                  }
                }
                gm = UnsafePointer(gathered)
              }
              let gStride = single ? pixels : columns
              if needs.parameterGradients {
                Im2col.expand(
                  x + images.lowerBound * inputPlane, into: base, geometry: sub(g, images.count),
                  parallel: plan.inside, outputRows: piece.rows)
                Gemm.multiply(
                  transposeB: true, m: outputChannels, n: g.patchSize, k: columns, a: gm, lda: gStride, b: base,
                  ldb: columns, beta: first ? 0 : 1, c: base + dwAt, ldc: g.patchSize, parallel: plan.inside)
                let db = base + dbAt
                for o in 0..<outputChannels {
                  let sum = Reductions.sum(gm + o * gStride, count: columns)
                  db[o] = first ? sum : db[o] + sum
                }
              }
              if same, needs.inputGradient, let din = target.pointer {
                let gradientGeometry = sub(g, images.count, channels: outputChannels)
                Im2col.expand(
                  gout + images.lowerBound * outputPlane, into: base + dcolsAt, geometry: gradientGeometry,
                  parallel: plan.inside, outputRows: piece.rows)
                // One image: the product (C, band) is its gradient planes; else via cols' space.
                let product = single ? din + images.lowerBound * inputPlane + offset : base
                flipped.withPointer { f in
                  Gemm.multiply(
                    m: g.channels, n: columns, k: gradientPatch, a: f, lda: gradientPatch, b: base + dcolsAt,
                    ldb: columns, c: product, ldc: single ? pixels : columns, parallel: plan.inside)
                }
                if !single {
                  for (index, n) in images.enumerated() {
                    for c in 0..<g.channels {
                      (din + n * inputPlane + c * pixels).update(
                        from: product + c * columns + index * pixels, count: pixels)
                    }
                  }
                }
              } else if needs.inputGradient, let din = target.pointer {
                Gemm.multiply(
                  transposeA: true, m: g.patchSize, n: columns, k: outputChannels, a: w, lda: g.patchSize, b: gm,
                  ldb: gStride, c: base + dcolsAt, ldc: columns, parallel: plan.inside)
                Im2col.fold(
                  base + dcolsAt, into: din + images.lowerBound * inputPlane, geometry: sub(g, images.count),
                  parallel: plan.inside)
              }
            }
          }
        }
      }
    }
    if needs.parameterGradients && plan.chunks == 0 {
      weight.gradient = Tensor(shape: weight.gradient.shape)
      bias?.gradient = Tensor(shape: [outputChannels])
    } else if needs.parameterGradients {
      sumWorkerGradients(workers: plan.workers, weightsAt: dwAt, biasAt: dbAt)
    }
    return gradInput
  }

  /// The parameter gradients as the sum of each worker's partial sums, kept in its scratch
  /// buffer at `weightsAt` (dW) and `biasAt` (db).
  func sumWorkerGradients(workers: Int, weightsAt: Int, biasAt: Int) {
    let weights = weight.gradient.count
    weight.gradient.withMutablePointer { dw in
      dw.update(from: scratch.buffer(0) + weightsAt, count: weights)
      for worker in 1..<max(1, workers) {
        let part = scratch.buffer(worker) + weightsAt
        for i in 0..<weights { dw[i] += part[i] }
      }
    }
    bias?.gradient.withMutablePointer { db in
      db.update(from: scratch.buffer(0) + biasAt, count: outputChannels)
      for worker in 1..<max(1, workers) {
        let part = scratch.buffer(worker) + biasAt
        for o in 0..<outputChannels { db[o] += part[o] }
      }
    }
  }
}

extension Conv2d {
  /// W′ (C, O, k, k) with W′[c,o,i,j] = W[o,c,k−1−i,k−1−j]: the kernel whose "same"
  /// convolution of the output gradient is the input gradient.
  func flippedWeight() -> Tensor {
    let (o, c, k) = (outputChannels, inputChannels, kernelSize)
    return weight.value.withPointer { w in
      Tensor(shape: [c, o, k, k]) { f in
        for oi in 0..<o {
          for ci in 0..<c {
            for i in 0..<k {
              for j in 0..<k { f[((ci * o + oi) * k + i) * k + j] = w[((oi * c + ci) * k + k - 1 - i) * k + k - 1 - j] }
            }
          }
        }
      }
    }
  }
}

/// How a convolution splits its batch: chunks of whole images, each about `targetColumns`
/// output pixels wide (so one chunk's im2col matrix and product stay in cache), as many as a
/// multiple of the worker count and sized within one image of each other, dealt out in
/// contiguous runs so every worker gets the same number of images (± 1 per chunk). With
/// `bands`, an image whose plane is wider than `targetColumns` is cut into bands of output
/// rows instead (one image per chunk). A batch smaller than the worker count runs as one
/// chunk whose GEMM and im2col are split over the workers instead (`inside`).
struct ConvChunks {
  /// Output pixels per chunk the plan aims at: measured on this machine's OpenBLAS, a
  /// (32 × 288)·(288 × n) GEMM ran at 84 GFLOP/s for n = 1,024 and 121 for n = 512.
  static let targetColumns = 512

  /// Images, and output rows (nil: all) of one chunk.
  struct Piece {
    var images: Range<Int>
    var rows: Range<Int>?
  }

  let batch: Int
  let outputHeight: Int, outputWidth: Int
  /// The largest chunk's image count.
  let imagesPerChunk: Int
  /// Bands per image (1: whole images), and rows per band (the last may be shorter).
  let bandsPerImage: Int, rowsPerBand: Int
  let chunks: Int
  /// Workers that take chunks (1 when the batch is smaller than the worker count).
  let workers: Int
  /// Whether images may be cut into bands of rows.
  let bands: Bool
  /// Whether the single worker parallelises inside its chunk.
  var inside: Bool { workers == 1 && Parallel.workers > 1 }

  init(batch: Int, outputHeight: Int, outputWidth: Int, bands: Bool) {
    (self.batch, self.outputHeight, self.outputWidth, self.bands) = (batch, outputHeight, outputWidth, bands)
    let pixels = outputHeight * outputWidth
    let available = Parallel.workers
    // No bands for a batch split inside (GradCAM of one image): its whole-plane GEMM splits
    // over the workers better than bands of half the width would.
    let splitInside = batch < available && available > 1
    (bandsPerImage, rowsPerBand) =
      bands && pixels > Self.targetColumns && outputHeight > 1 && !splitInside
      ? { (rows: Int) in ((outputHeight + rows - 1) / rows, rows) }(
        max(1, outputHeight / ((pixels + Self.targetColumns - 1) / Self.targetColumns)))
      : (1, outputHeight)
    guard batch >= available, available > 1 else {
      // One worker: whole batch at once, or image by image in bands.
      (imagesPerChunk, chunks, workers) =
        bandsPerImage > 1 ? (1, batch * bandsPerImage, 1) : (max(1, batch), batch > 0 ? 1 : 0, 1)
      return
    }
    if bandsPerImage > 1 {
      (imagesPerChunk, chunks) = (1, batch * bandsPerImage)
    } else {
      let wanted = max(1, (batch * pixels + Self.targetColumns - 1) / Self.targetColumns)
      // A multiple of the worker count (at most one chunk per image).
      chunks = min(batch / available * available, (wanted + available - 1) / available * available)
      imagesPerChunk = (batch + chunks - 1) / chunks
    }
    workers = available
  }

  /// The widest chunk's output columns.
  var widestColumns: Int {
    bandsPerImage > 1 ? rowsPerBand * outputWidth : imagesPerChunk * outputHeight * outputWidth
  }

  /// Chunk `index`.
  func piece(_ index: Int) -> Piece {
    if bandsPerImage > 1 {
      let (image, band) = (index / bandsPerImage, index % bandsPerImage)
      let first = band * rowsPerBand
      return Piece(images: image..<image + 1, rows: first..<min(outputHeight, first + rowsPerBand))
    }
    return Piece(images: index * batch / chunks..<(index + 1) * batch / chunks, rows: nil)
  }

  /// Output columns of `piece`.
  func columns(_ piece: Piece) -> Int {
    piece.images.count * (piece.rows?.count ?? outputHeight) * outputWidth
  }

  /// The plane position of `piece`'s first output pixel.
  func firstPixel(_ piece: Piece) -> Int { (piece.rows?.lowerBound ?? 0) * outputWidth }

  /// Whether `piece` is the first chunk worker `worker` takes.
  func isFirst(_ candidate: Piece, ofWorker worker: Int) -> Bool {
    let first = piece(worker * chunks / workers)
    return first.images == candidate.images && first.rows == candidate.rows
  }

  /// Calls `body(worker, piece)` for every chunk, each worker's chunks in order on its thread.
  func run(_ body: (Int, Piece) -> Void) {
    guard chunks > 0 else { return }
    Parallel.forEach(0..<workers) { worker in
      for chunk in (worker * chunks / workers)..<((worker + 1) * chunks / workers) {
        body(worker, piece(chunk))
      }
    }
  }
}

/// Scratch memory per worker that lives across steps, grown before a parallel region and never
/// shared between workers.
final class WorkerScratch: @unchecked Sendable {
  private var buffers: [UnsafeMutablePointer<Float>] = []
  private var capacity = 0

  /// Makes sure `workers` buffers of at least `count` floats exist (contents not kept).
  func reserve(workers: Int, count: Int) {
    guard workers > buffers.count || count > capacity else { return }
    release()
    capacity = max(count, capacity)
    // Cache-line aligned (the direct kernels' planes are whole lines).
    buffers = (0..<max(workers, 1)).map { _ in
      UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity) * 4, alignment: 64).bindMemory(
        to: Float.self, capacity: max(1, capacity))
    }
  }

  /// Worker `worker`'s buffer.
  func buffer(_ worker: Int) -> UnsafeMutablePointer<Float> { buffers[worker] }

  private func release() {
    for buffer in buffers { UnsafeMutableRawPointer(buffer).deallocate() }
    buffers = []
  }

  deinit { release() }
}
