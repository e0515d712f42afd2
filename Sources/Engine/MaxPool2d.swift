/// 2-D max pooling without padding: `out[n,c,y,x] = max_{i,j<k} in[n,c,y·s+i, x·s+j]`;
/// (N,C,H,W) → (N,C,(H−k)/s+1,(W−k)/s+1). The gradient goes to the first maximum (PyTorch).
public final class MaxPool2d: Layer {
  public let name: String
  /// Window size k.
  public let kernelSize: Int
  /// Stride s (defaults to k).
  public let stride: Int
  private var argmax = [Int32]()
  private var inputShape = [Int]()

  /// Creates a pooling layer; `stride` defaults to `kernelSize` as in PyTorch.
  public init(name: String, kernelSize: Int, stride: Int? = nil) {
    self.name = name
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
  }

  public func outputShape(for s: [Int]) -> [Int]? {
    guard s.count == 4,
      let height = ConvGeometry.outputSize(input: s[2], kernel: kernelSize, stride: stride, padding: 0),
      let width = ConvGeometry.outputSize(input: s[3], kernel: kernelSize, stride: stride, padding: 0)
    else { return nil }
    return [s[0], s[1], height, width]
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure("\(name): input \(input.shape) too small for MaxPool2d(\(kernelSize))")
    }
    inputShape = input.shape
    let (h, w, ho, wo) = (input.shape[2], input.shape[3], outShape[2], outShape[3])
    let planes = input.shape[0] * input.shape[1]
    var out = Tensor(shape: outShape) { _ in }
    if argmax.count != out.count { argmax = [Int32](repeating: 0, count: out.count) }
    let (k, s) = (kernelSize, stride)
    input.withPointer { x in
      out.withMutablePointer { y in
        argmax.withUnsafeMutableBufferPointer { am in
          Parallel.forEach(0..<planes) { plane in
            let src = x + plane * h * w
            if k == 2 && s == 2, let winners = am.baseAddress {
              Self.pool2x2(
                src, width: w, outputHeight: ho, outputWidth: wo, into: y + plane * ho * wo,
                argmax: winners + plane * ho * wo)
              return
            }
            for oy in 0..<ho {
              for ox in 0..<wo {
                let o = (plane * ho + oy) * wo + ox
                let corner = (oy * s) * w + ox * s
                if k == 2 {
                  (y[o], am[o]) = Self.window2x2(src, corner, w)
                  continue
                }
                var best = -Float.infinity
                var bestIndex = corner
                for i in 0..<k {
                  let row = corner + i * w
                  for j in 0..<k where src[row + j] > best || (src[row + j].isNaN && !best.isNaN) {
                    best = src[row + j]
                    bestIndex = row + j
                  }
                }
                y[o] = best
                am[o] = Int32(bestIndex)
              }
            }
          }
        }
      }
    }
    return out
  }

  /// The 2×2 window at `corner` of a plane `w` wide: its maximum and where (the first
  /// maximum wins, as in PyTorch).
  @inline(__always)
  static func window2x2(_ src: UnsafePointer<Float>, _ corner: Int, _ w: Int) -> (Float, Int32) {
    var best = src[corner]
    var bestIndex = corner
    if src[corner + 1] > best {
      best = src[corner + 1]
      bestIndex = corner + 1
    }
    if src[corner + w] > best {
      best = src[corner + w]
      bestIndex = corner + w
    }
    if src[corner + w + 1] > best {
      best = src[corner + w + 1]
      bestIndex = corner + w + 1
    }
    return (best, Int32(bestIndex))
  }

  /// One plane pooled by 2×2 windows at stride 2, 8 outputs at a time: the windows' top and
  /// bottom rows are two 16-float loads, split into even and odd columns; the same comparisons
  /// as `window2x2`, lane by lane (the scalar loop was a seventh of an intervention sweep).
  /// The last `outputWidth` mod 8 outputs of a row go through `window2x2`.
  static func pool2x2(
    _ src: UnsafePointer<Float>, width w: Int, outputHeight ho: Int, outputWidth wo: Int,
    into out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
  ) {
    let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    for oy in 0..<ho {
      let row = 2 * oy * w
      let (top, bottom) = (UnsafeRawPointer(src + row), UnsafeRawPointer(src + row + w))
      let (y, winners) = (out + oy * wo, argmax + oy * wo)
      var ox = 0
      // 16 floats from column 2·ox end at 2·ox + 15 ≤ 2·wo − 1 ≤ w − 1: inside the row.
      while ox + 8 <= wo {
        let upper = top.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
        let lower = bottom.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
        let corner = SIMD8<Int32>(repeating: Int32(row + 2 * ox)) &+ lanes
        var best = upper.evenHalf
        var index = corner
        let (right, below, diagonal) = (upper.oddHalf, lower.evenHalf, lower.oddHalf)
        let rightWins = right .> best
        best.replace(with: right, where: rightWins)
        index.replace(with: corner &+ 1, where: rightWins)
        let belowWins = below .> best
        best.replace(with: below, where: belowWins)
        index.replace(with: corner &+ Int32(w), where: belowWins)
        let diagonalWins = diagonal .> best
        best.replace(with: diagonal, where: diagonalWins)
        index.replace(with: corner &+ Int32(w + 1), where: diagonalWins)
        UnsafeMutableRawPointer(y + ox).storeBytes(of: best, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(winners + ox).storeBytes(of: index, as: SIMD8<Int32>.self)
        ox += 8
      }
      for tail in ox..<wo { (y[tail], winners[tail]) = window2x2(src, row + 2 * tail, w) }
    }
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(
      gradOutput.count == argmax.count, "\(name): gradient \(gradOutput.shape) does not match the last output")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    var grad = Tensor(shape: inputShape)
    let plane = inputShape[2] * inputShape[3]
    let outPlane = gradOutput.count / (inputShape[0] * inputShape[1])
    gradOutput.withPointer { gy in
      grad.withMutablePointer { gx in
        argmax.withUnsafeBufferPointer { am in
          let (target, winners) = (UncheckedPointer(gx), am)
          Parallel.forEach(0..<(inputShape[0] * inputShape[1])) { p in
            guard let gx = target.pointer else { return }
            let (inputs, first) = (gx + p * plane, p * outPlane)
            for o in first..<(first + outPlane) { inputs[Int(winners[o])] += gy[o] }
          }
        }
      }
    }
    return grad
  }
}

extension MaxPool2d {
  /// Whether some window's two largest distinct entries differ by less than `relativeGap`
  /// of the larger: there the arg-max (and so the gradient route) depends on rounding.
  public func hasNearTie(_ input: Tensor, relativeGap: Float) -> Bool {
    guard let out = outputShape(for: input.shape) else { return false }
    let (h, w) = (input.shape[2], input.shape[3])
    for plane in 0..<(input.shape[0] * input.shape[1]) {
      for oy in 0..<out[2] {
        for ox in 0..<out[3] {
          var window: [Float] = []
          for i in 0..<kernelSize {
            for j in 0..<kernelSize {
              window.append(input.scalars[plane * h * w + (oy * stride + i) * w + ox * stride + j])
            }
          }
          let top = window.max() ?? 0
          let runnerUp = window.filter { $0 != top }.max() ?? -.infinity
          if top - runnerUp < relativeGap * abs(top) { return true }
        }
      }
    }
    return false
  }
}
