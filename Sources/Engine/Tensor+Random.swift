import Foundation

extension Tensor {
  /// Scalars drawn uniformly from [−bound, bound).
  public static func uniform<G: RandomNumberGenerator>(
    shape: [Int], bound: Float, using generator: inout G
  ) -> Tensor {
    let count = shape.reduce(1, *)
    var scalars = [Float](repeating: 0, count: count)
    for i in 0..<count {
      let unit = Float(generator.next() >> 40) / Float(1 << 24)  // [0, 1) with 24 bits
      scalars[i] = (2 * unit - 1) * bound
    }
    return Tensor(shape: shape, scalars: scalars)
  }

  /// Standard normal scalars (Box–Muller), times `scale`.
  public static func normal<G: RandomNumberGenerator>(
    shape: [Int], scale: Float = 1, using generator: inout G
  ) -> Tensor {
    let count = shape.reduce(1, *)
    var scalars = [Float](repeating: 0, count: count)
    var i = 0
    while i < count {
      let u1 = (Double(generator.next() >> 11) + 1) / Double(1 << 53)
      let u2 = Double(generator.next() >> 11) / Double(1 << 53)
      let radius = (-2 * log(u1)).squareRoot()
      scalars[i] = Float(radius * cos(2 * .pi * u2)) * scale
      if i + 1 < count { scalars[i + 1] = Float(radius * sin(2 * .pi * u2)) * scale }
      i += 2
    }
    return Tensor(shape: shape, scalars: scalars)
  }
}
