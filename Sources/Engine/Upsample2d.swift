/// Nearest-neighbour upsampling by an integer scale factor s, like PyTorch's
/// `nn.Upsample(scale_factor=s, mode='nearest')`: every pixel becomes an s×s block.
///
/// `out[n,c,y,x] = in[n,c,⌊y/s⌋,⌊x/s⌋]`; in (N,C,H,W) → out (N,C,s·H,s·W).
/// Backward sums each block: `∂in[n,c,i,j] = Σ_{a,b<s} ∂out[n,c,s·i+a,s·j+b]`.
public final class Upsample2d: Layer {
  public let name: String
  /// Scale factor s (≥ 1), the same for height and width.
  public let scale: Int
  private var inputShape = [Int]()

  /// Creates the layer (no parameters).
  /// - Precondition: `scale ≥ 1`.
  public init(name: String, scale: Int) {
    precondition(scale >= 1, "\(name): Upsample2d scale must be ≥ 1, got \(scale)")
    self.name = name
    self.scale = scale
  }

  public func outputShape(for s: [Int]) -> [Int]? {
    guard s.count == 4, case (let height, false) = s[2].multipliedReportingOverflow(by: scale),
      case (let width, false) = s[3].multipliedReportingOverflow(by: scale)
    else { return nil }
    return [s[0], s[1], height, width]
  }

  // in (N,C,H,W) -> out (N,C,sH,sW): per plane, widen each input row once, then copy it s−1 times.
  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure("\(name): Upsample2d needs (N,C,H,W), got \(input.shape)")
    }
    inputShape = input.shape
    let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
    let outWidth = width * scale
    let s = scale
    return input.withPointer { x in
      Tensor(shape: outShape) { y in
        Parallel.forEach(0..<planes) { p in
          for i in 0..<height {
            let source = x + (p * height + i) * width
            let first = y + (p * height + i) * s * outWidth
            for j in 0..<width {
              let value = source[j]
              for b in 0..<s { first[j * s + b] = value }
            }
            for a in 1..<s { (first + a * outWidth).update(from: first, count: outWidth) }
          }
        }
      }
    }
  }

  // gout (N,C,sH,sW) -> gin (N,C,H,W): each input pixel collects its s×s block.
  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(
      inputShape.count == 4 && gradOutput.shape == outputShape(for: inputShape),
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    let (planes, height, width) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
    let outWidth = width * scale
    let s = scale
    return gradOutput.withPointer { gy in
      Tensor(shape: inputShape) { gx in
        Parallel.forEach(0..<planes) { p in
          for i in 0..<height {
            let target = gx + (p * height + i) * width
            let block = gy + (p * height + i) * s * outWidth
            for j in 0..<width {
              var sum: Float = 0
              for a in 0..<s {
                for b in 0..<s { sum += block[a * outWidth + j * s + b] }
              }
              target[j] = sum
            }
          }
        }
      }
    }
  }
}
