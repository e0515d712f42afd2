extension Conv2d {
  /// Direct nested-loop convolution (Double accumulation): the slow, obviously-correct
  /// reference the im2col + SGEMM path is tested against.
  public func referenceForward(_ input: Tensor) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure("\(name): input \(input.shape) does not fit")
    }
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (ho, wo, k) = (outShape[2], outShape[3], kernelSize)
    var out = Tensor(shape: outShape)
    for b in 0..<n {
      for o in 0..<outputChannels {
        for y in 0..<ho {
          for x in 0..<wo {
            var sum = Double(bias?.value.scalars[o] ?? 0)
            for ci in 0..<c {
              for i in 0..<k {
                for j in 0..<k {
                  let iy = y * stride - padding + i
                  let ix = x * stride - padding + j
                  guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                  let wv = weight.value.scalars[((o * c + ci) * k + i) * k + j]
                  sum += Double(wv) * Double(input.scalars[((b * c + ci) * h + iy) * w + ix])
                }
              }
            }
            out.scalars[((b * outputChannels + o) * ho + y) * wo + x] = Float(sum)
          }
        }
      }
    }
    return out
  }
}
