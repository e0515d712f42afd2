/// Sizes of a 2-D convolution or pooling window over an NCHW batch.
///
/// Output size (PyTorch): `Ho = (H + 2·padding − kernel) / stride + 1`, likewise for width.
public struct ConvGeometry: Equatable, Sendable {
  /// Batch size N.
  public var batch: Int
  /// Input channels C.
  public var channels: Int
  /// Input height H and width W.
  public var height: Int, width: Int
  /// Square kernel size k.
  public var kernel: Int
  /// Stride s.
  public var stride: Int
  /// Zero padding p on every side.
  public var padding: Int

  /// Creates the geometry; traps if the window does not fit (callers check with
  /// `outputSize(input:kernel:stride:padding:)` first).
  public init(
    batch: Int, channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int
  ) {
    precondition(kernel > 0 && stride > 0 && padding >= 0, "bad window k=\(kernel) s=\(stride) p=\(padding)")
    precondition(
      Self.outputSize(input: height, kernel: kernel, stride: stride, padding: padding) != nil
        && Self.outputSize(input: width, kernel: kernel, stride: stride, padding: padding) != nil,
      "window \(kernel) with padding \(padding) does not fit a \(height)×\(width) input")
    self.batch = batch
    self.channels = channels
    self.height = height
    self.width = width
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
  }

  /// Output size along one axis, `(input + 2·padding − kernel) / stride + 1`, or nil when the
  /// window does not fit, a size is out of range (input < 0, kernel or stride < 1, padding < 0)
  /// or the arithmetic would overflow. Safe on unvalidated sizes: it never traps.
  ///
  /// For example input 28, kernel 3, stride 1, padding 1 gives (28 + 2 − 3) / 1 + 1 = 28.
  public static func outputSize(input: Int, kernel: Int, stride: Int, padding: Int) -> Int? {
    guard input >= 0, kernel > 0, stride > 0, padding >= 0 else { return nil }
    let (twice, overflowA) = padding.multipliedReportingOverflow(by: 2)
    let (padded, overflowB) = input.addingReportingOverflow(twice)
    guard !overflowA, !overflowB, padded >= kernel else { return nil }
    // 0 ≤ padded − kernel ≤ Int.max − 1 (kernel ≥ 1), so the quotient + 1 cannot overflow.
    return (padded - kernel) / stride + 1
  }

  /// Output height Ho.
  public var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
  /// Output width Wo.
  public var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
  /// Output pixels per image P = Ho·Wo.
  public var outputPixels: Int { outputHeight * outputWidth }
  /// Rows of the im2col matrix, C·k·k.
  public var patchSize: Int { channels * kernel * kernel }
}

/// im2col / col2im over a whole batch.
///
/// `cols` is (C·k·k, N·P): row `r = (c·k + ki)·k + kj`, column `n·P + oh·Wo + ow` holds
/// `input[n, c, oh·s − p + ki, ow·s − p + kj]` (0 outside the image). One GEMM with the
/// (O, C·k·k) weight then convolves the whole batch.
public enum Im2col {
  /// Fills `cols` from `input` (N,C,H,W), over the engine's threads unless `parallel` is false
  /// (a caller that already splits the batch over them). With `outputRows`, only those output
  /// rows: `cols` is then (C·k·k, N·|rows|·Wo), column `n·|rows|·Wo + (oh − first)·Wo + ow`.
  public static func expand(
    _ input: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
    parallel: Bool = true, outputRows: Range<Int>? = nil
  ) {
    let (k, s, p) = (g.kernel, g.stride, g.padding)
    let (ho, wo) = (g.outputHeight, g.outputWidth)
    let band = outputRows ?? 0..<ho
    precondition(band.lowerBound >= 0 && band.upperBound <= ho, "im2col: output rows \(band) of \(ho)")
    let pixels = band.count * wo
    let columns = g.batch * pixels
    let plane = g.height * g.width
    rows(0..<g.patchSize, parallel: parallel) { r in
      let c = r / (k * k)
      let ki = (r / k) % k
      let kj = r % k
      // Output columns whose input column lies inside the image: ow in [owLow, owHigh).
      let owLow = max(0, (p - kj + s - 1) / s)
      let owHigh = min(wo, max(0, (g.width + p - kj + s - 1) / s))
      let row = cols + r * columns
      if s == 1 && ho == g.height && wo == g.width {
        shifted(input, into: row, geometry: g, channel: c, dy: ki - p, dx: kj - p, band: band)
        return
      }
      for n in 0..<g.batch {
        let image = input + (n * g.channels + c) * plane
        for oh in band {
          let out = row + n * pixels + (oh - band.lowerBound) * wo
          let ih = oh * s - p + ki
          if ih < 0 || ih >= g.height || owLow >= owHigh {
            out.update(repeating: 0, count: wo)
            continue
          }
          if owLow > 0 { out.update(repeating: 0, count: owLow) }
          if owHigh < wo { (out + owHigh).update(repeating: 0, count: wo - owHigh) }
          let source = image + ih * g.width - p + kj
          if s == 1 {
            (out + owLow).update(from: source + owLow, count: owHigh - owLow)
          } else {
            for ow in owLow..<owHigh { out[ow] = source[ow * s] }
          }
        }
      }
    }
  }

  /// One im2col row of a "same" convolution (stride 1, output size = input size), output rows
  /// `band`: every image's plane shifted by (dy, dx) — one contiguous copy per image instead
  /// of one per output row (7-float copies on a 7×7 map) — then the wrapped-around columns
  /// and the rows outside the image set to 0.
  private static func shifted(
    _ input: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, channel c: Int,
    dy: Int, dx: Int, band: Range<Int>
  ) {
    let (h, w) = (g.height, g.width)
    let plane = h * w
    let segment = band.count * w
    let base = band.lowerBound * w  // plane position of the segment's first entry
    // Output rows of the band whose source row lies in the image.
    let (rowLow, rowHigh) = (max(band.lowerBound, -dy), min(band.upperBound, h - dy))
    let shift = dy * w + dx
    for n in 0..<g.batch {
      let out = row + n * segment  // entry q of the plane lands at out[q − base]
      guard rowLow < rowHigh else {
        out.update(repeating: 0, count: segment)
        continue
      }
      let image = input + (n * g.channels + c) * plane
      let (start, end) = (rowLow * w, rowHigh * w)
      // Sources outside the plane fall on wrapped columns, zeroed below.
      let (first, last) = (max(start, -shift), min(end, plane - shift))
      if start > base { out.update(repeating: 0, count: start - base) }
      if first < last { (out + (first - base)).update(from: image + first + shift, count: last - first) }
      if end < base + segment { (out + (end - base)).update(repeating: 0, count: base + segment - end) }
      if dx != 0 {
        let (low, high) = dx < 0 ? (0, min(w, -dx)) : (max(0, w - dx), w)
        for oh in rowLow..<rowHigh {
          for ow in low..<high { out[oh * w + ow - base] = 0 }
        }
      }
      if first >= last {
        (out + (start - base)).update(repeating: 0, count: end - start)
      } else {
        if start < first { (out + (start - base)).update(repeating: 0, count: first - start) }
        if last < end { (out + (last - base)).update(repeating: 0, count: end - last) }
      }
    }
  }

  /// Accumulates `cols` back into `input` (N,C,H,W), which is overwritten: the adjoint of
  /// `expand`, used for the input gradient (`parallel` as for `expand`).
  public static func fold(
    _ cols: UnsafePointer<Float>, into input: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
    parallel: Bool = true
  ) {
    let (k, s, p) = (g.kernel, g.stride, g.padding)
    let (ho, wo, pixels) = (g.outputHeight, g.outputWidth, g.outputPixels)
    let columns = g.batch * pixels
    let plane = g.height * g.width
    // Parallel over channels so that no two threads write the same input plane.
    rows(0..<g.channels, parallel: parallel) { c in
      for n in 0..<g.batch {
        (input + (n * g.channels + c) * plane).update(repeating: 0, count: plane)
      }
      for ki in 0..<k {
        for kj in 0..<k {
          let r = (c * k + ki) * k + kj
          let owLow = max(0, (p - kj + s - 1) / s)
          let owHigh = min(wo, max(0, (g.width + p - kj + s - 1) / s))
          if owLow >= owHigh { continue }
          let row = cols + r * columns
          for n in 0..<g.batch {
            let image = input + (n * g.channels + c) * plane
            for oh in 0..<ho {
              let ih = oh * s - p + ki
              if ih < 0 || ih >= g.height { continue }
              let source = row + n * pixels + oh * wo
              let target = image + ih * g.width - p + kj
              if s == 1 {
                for ow in owLow..<owHigh { target[ow] += source[ow] }
              } else {
                for ow in owLow..<owHigh { target[ow * s] += source[ow] }
              }
            }
          }
        }
      }
    }
  }

  private static func rows(_ range: Range<Int>, parallel: Bool, _ body: (Int) -> Void) {
    if parallel {
      Parallel.forEach(range, body)
    } else {
      for i in range { body(i) }
    }
  }
}
