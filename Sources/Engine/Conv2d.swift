/// 2-D convolution (cross-correlation, as PyTorch): im2col + one SGEMM per batch.
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

  private var cols = Tensor(shape: [0])
  private var geometry: ConvGeometry?

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

  // in (N,C,H,W) -> cols (Ck², N·P) -> gemm W(O,Ck²)·cols -> (O, N·P) -> out (N,O,Ho,Wo)
  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure(
        "\(name): input \(input.shape) does not fit Conv2d(\(inputChannels)→\(outputChannels), k=\(kernelSize), p=\(padding))"
      )
    }
    let g = geometry(for: input.shape)
    geometry = g
    let columns = g.batch * g.outputPixels
    if cols.count != g.patchSize * columns { cols = Tensor(shape: [g.patchSize, columns]) { _ in } }
    input.withPointer { x in cols.withMutablePointer { Im2col.expand(x, into: $0, geometry: g) } }
    var product = Tensor(shape: [outputChannels, columns]) { _ in }
    weight.value.withPointer { w in
      cols.withPointer { c in
        product.withMutablePointer { y in
          Gemm.multiply(
            m: outputChannels, n: columns, k: g.patchSize, a: w, lda: g.patchSize, b: c,
            ldb: columns, c: y, ldc: columns)
        }
      }
    }
    var output = Tensor(shape: outShape) { _ in }
    let pixels = g.outputPixels
    let biasValues = bias?.value.scalars
    product.withPointer { y in
      output.withMutablePointer { out in
        Parallel.forEach(0..<g.batch) { n in
          for o in 0..<outputChannels {
            let target = out + (n * outputChannels + o) * pixels
            let source = y + o * columns + n * pixels
            if let b = biasValues?[o] {
              for p in 0..<pixels { target[p] = source[p] + b }
            } else {
              target.update(from: source, count: pixels)
            }
          }
        }
      }
    }
    return output
  }

  // gout (N,O,Ho,Wo) -> g (O, N·P); dW = g·colsᵀ; db = Σ_cols g; dcols = Wᵀ·g -> col2im -> din
  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    guard let g = geometry else { preconditionFailure("\(name): backward before forward") }
    let columns = g.batch * g.outputPixels
    let pixels = g.outputPixels
    precondition(
      gradOutput.shape == [g.batch, outputChannels, g.outputHeight, g.outputWidth],
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    var grad = Tensor(shape: [outputChannels, columns]) { _ in }
    gradOutput.withPointer { gout in
      grad.withMutablePointer { gm in
        Parallel.forEach(0..<outputChannels) { o in
          for n in 0..<g.batch {
            (gm + o * columns + n * pixels).update(
              from: gout + (n * outputChannels + o) * pixels, count: pixels)
          }
        }
      }
    }
    if needs.parameterGradients {
      grad.withPointer { gm in
        cols.withPointer { c in
          weight.gradient.withMutablePointer { dw in
            Gemm.multiply(
              transposeB: true, m: outputChannels, n: g.patchSize, k: columns, a: gm,
              lda: columns, b: c, ldb: columns, c: dw, ldc: g.patchSize)
          }
        }
        if let bias {
          bias.gradient.withMutablePointer { db in
            for o in 0..<outputChannels {
              var sum: Float = 0
              let row = gm + o * columns
              for j in 0..<columns { sum += row[j] }
              db[o] = sum
            }
          }
        }
      }
    }
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    var gradCols = Tensor(shape: [g.patchSize, columns]) { _ in }
    weight.value.withPointer { w in
      grad.withPointer { gm in
        gradCols.withMutablePointer { dc in
          Gemm.multiply(
            transposeA: true, m: g.patchSize, n: columns, k: outputChannels, a: w,
            lda: g.patchSize, b: gm, ldb: columns, c: dc, ldc: columns)
        }
      }
    }
    var gradInput = Tensor(shape: [g.batch, g.channels, g.height, g.width]) { _ in }
    gradCols.withPointer { dc in gradInput.withMutablePointer { Im2col.fold(dc, into: $0, geometry: g) } }
    return gradInput
  }
}
