/// Direct 3×3 "same" convolution (stride 1, zero padding 1) in 16-float vectors, the forward
/// pass and both gradients. This module is compiled for AVX-512 (`-target-cpu
/// skylake-avx512` in Package.swift): call nothing in it unless `Engine`'s
/// `DirectConvolutionSupport.available` says the CPU has AVX-512 (the engine falls back to
/// im2col + SGEMM otherwise). The kernels (`shift`, `forward`, `weightGradient`) are
/// `@inline(never)` and not `@inlinable`, so their vector code stays in this module; the size
/// helpers are integer arithmetic, and the engine calls them only on the direct path too.
///
/// Shifted planes. A channel's plane x (H×W) becomes three planes S₀, S₁, S₂ of (H+2)×W
/// floats, `S_j[(y+1)·W + x] = x[y, x + j − 1]` (0 outside the image), rows 0 and H+1 zero,
/// followed by `slack(height:width:)` zeros. An output pixel p = y·W + x then reads tap (i, j) at
/// `S_j[p + i·W]`: every tap of a run of consecutive output pixels is a run of consecutive
/// floats, whatever W is, so one 16-float load serves 16 output pixels (across row ends too).
/// Layout: S_j of channel c at `j·jump + c·plane` (`shiftedPlane`, `shiftedJump`): planes are
/// whole cache lines, and the three groups of C planes and consecutive images are offset by a
/// few extra lines, so that the nine taps' loads of one channel (and the same channel of the
/// next images) do not fall on the same L1 sets. Without it, a 64-channel layer's S₀, S₁, S₂ sat
/// a multiple of 4 KB apart, and the weight gradient ran at half speed.
///
/// Forward. Per block of 8 output channels × 32 output pixels, 16 accumulators of 16 floats:
/// for each input channel and tap, two loads of S, eight broadcast weights and 16 fused
/// multiply-adds (weights stored tap-major, `[(c·9 + i·3 + j)·O′ + o]`, O′ = O rounded up to 8,
/// zeros beyond O). The input gradient is the same convolution of the output gradient with the
/// flipped, transposed kernel; the weight gradient sums, per pair of output channels and input
/// channel, 18 products of the output gradient's pixels with the nine taps' shifted runs.
public enum DirectConvolution {
  /// Zero floats after each shifted plane: a forward block's loads run up to the last pixel
  /// of its 32 (plus two rows of taps below), so up to H·W rounded up to 32.
  public static func slack(height: Int, width: Int) -> Int { (height * width + 31) / 32 * 32 - height * width }

  /// Output channels per forward block (weights are padded to a multiple of it).
  public static let outputBlock = 8

  /// Floats per shifted plane: (H+2)·W + `slack`, rounded up to a whole 64-byte line.
  public static func shiftedPlane(height: Int, width: Int) -> Int {
    ((height + 2) * width + slack(height: height, width: width) + 15) / 16 * 16
  }

  /// Floats from S_j to S_{j+1} of the same channel: C planes and five lines.
  public static func shiftedJump(channels: Int, height: Int, width: Int) -> Int {
    channels * shiftedPlane(height: height, width: width) + 5 * 16
  }

  /// Floats of one image's shifted planes (3 jumps and seven lines; the next image's begin there).
  public static func shiftedCount(channels: Int, height: Int, width: Int) -> Int {
    3 * shiftedJump(channels: channels, height: height, width: width) + 7 * 16
  }

  /// O rounded up to a multiple of `outputBlock`.
  public static func paddedOutputs(_ outputs: Int) -> Int { (outputs + outputBlock - 1) / outputBlock * outputBlock }

  /// Fills `s` (`shiftedCount` floats) with the shifted planes of `x` (C,H,W).
  @inline(never)
  public static func shift(
    _ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, into s: UnsafeMutablePointer<Float>
  ) {
    let plane = shiftedPlane(height: h, width: w)
    let jump = shiftedJump(channels: channels, height: h, width: w)
    for j in 0..<3 {
      for c in 0..<channels {
        let target = s + (j &* jump &+ c &* plane)
        let source = x + c &* h &* w
        target.update(repeating: 0, count: w)
        let body = target + w
        switch j {
        case 1:
          body.update(from: source, count: h &* w)
        case 0:
          // S₀[y, x] = x[y, x − 1]: the plane moved right by one, column 0 zero.
          body[0] = 0
          (body + 1).update(from: source, count: h &* w &- 1)
          for y in 1..<max(1, h) { body[y &* w] = 0 }
        default:
          // S₂[y, x] = x[y, x + 1]: moved left by one, column W − 1 zero.
          body.update(from: source + 1, count: h &* w &- 1)
          for y in 0..<h { body[y &* w &+ w &- 1] = 0 }
        }
        (body + h &* w).update(repeating: 0, count: plane &- (h &+ 1) &* w)
      }
    }
  }

  /// `out` (O,H,W) = the convolution of the image whose shifted planes are `s` (C channels)
  /// with weights `wt` (`[(c·9 + t)·O′ + o]`, O′ = `paddedOutputs(O)`), plus `bias` (O) if given.
  @inline(never)
  public static func forward(
    shifted s: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, weights wt: UnsafePointer<Float>,
    outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = shiftedPlane(height: h, width: w)
    let jump = shiftedJump(channels: channels, height: h, width: w)
    let stride = paddedOutputs(outputs)
    let tail = UnsafeMutablePointer<Float>.allocate(capacity: outputBlock &* 32)
    defer { tail.deallocate() }
    var o0 = 0
    while o0 < outputs {
      var p0 = 0
      while p0 < pixels {
        let full = p0 &+ 32 <= pixels && o0 &+ outputBlock <= outputs
        let target = full ? out + (o0 &* pixels &+ p0) : tail
        block(
          s: s + p0, channels: channels, plane: plane, jump: jump, rowStep: w, weights: wt + o0, stride: stride,
          bias: bias.map { $0 + o0 }, biasCount: min(outputBlock, outputs &- o0), into: target,
          outputStride: full ? pixels : 32)
        if !full {
          for o in 0..<min(outputBlock, outputs &- o0) {
            (out + ((o0 &+ o) &* pixels &+ p0)).update(from: tail + o &* 32, count: min(32, pixels &- p0))
          }
        }
        p0 &+= 32
      }
      o0 &+= outputBlock
    }
  }

  /// One 8 × 32 block: `s` points at the block's first pixel in S₀ of channel 0 (tap (i, j)
  /// of channel c is `c·plane + j·jump + i·W` further).
  @inline(__always)
  private static func block(
    s: UnsafePointer<Float>, channels: Int, plane: Int, jump: Int, rowStep w: Int, weights: UnsafePointer<Float>,
    stride: Int, bias: UnsafePointer<Float>?, biasCount: Int, into out: UnsafeMutablePointer<Float>,
    outputStride: Int
  ) {
    func start(_ o: Int) -> V { V(repeating: o < biasCount ? bias?[o] ?? 0 : 0) }
    var a00 = start(0)
    var a01 = start(0)
    var a10 = start(1)
    var a11 = start(1)
    var a20 = start(2)
    var a21 = start(2)
    var a30 = start(3)
    var a31 = start(3)
    var a40 = start(4)
    var a41 = start(4)
    var a50 = start(5)
    var a51 = start(5)
    var a60 = start(6)
    var a61 = start(6)
    var a70 = start(7)
    var a71 = start(7)
    var wk = weights
    for c in 0..<channels {
      let channelBase = s + c &* plane
      for i in 0..<3 {
        for j in 0..<3 {
          let row = channelBase + (j &* jump &+ i &* w)
          let p0 = load(row)
          let p1 = load(row + 16)
          var v = V(repeating: wk[0])
          a00.addProduct(v, p0)
          a01.addProduct(v, p1)
          v = V(repeating: wk[1])
          a10.addProduct(v, p0)
          a11.addProduct(v, p1)
          v = V(repeating: wk[2])
          a20.addProduct(v, p0)
          a21.addProduct(v, p1)
          v = V(repeating: wk[3])
          a30.addProduct(v, p0)
          a31.addProduct(v, p1)
          v = V(repeating: wk[4])
          a40.addProduct(v, p0)
          a41.addProduct(v, p1)
          v = V(repeating: wk[5])
          a50.addProduct(v, p0)
          a51.addProduct(v, p1)
          v = V(repeating: wk[6])
          a60.addProduct(v, p0)
          a61.addProduct(v, p1)
          v = V(repeating: wk[7])
          a70.addProduct(v, p0)
          a71.addProduct(v, p1)
          wk += stride
        }
      }
    }
    let o = outputStride
    store(out, a00, a01)
    store(out + o, a10, a11)
    store(out + 2 &* o, a20, a21)
    store(out + 3 &* o, a30, a31)
    store(out + 4 &* o, a40, a41)
    store(out + 5 &* o, a50, a51)
    store(out + 6 &* o, a60, a61)
    store(out + 7 &* o, a70, a71)
  }

  /// `dw` (O, C·9) += Σ over `images` images of Σ_p g[o, p] · S_j[c][p + i·W] for tap t = 3i + j:
  /// `g` is the images' output gradients (images × O × H·W, contiguous), `s` their shifted
  /// input planes (images × `shiftedCount`, contiguous).
  @inline(never)
  public static func weightGradient(
    gradient g: UnsafePointer<Float>, shifted s: UnsafePointer<Float>, images: Int, channels: Int, height h: Int,
    width w: Int, outputs: Int, into dw: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = shiftedPlane(height: h, width: w)
    let imageShifted = shiftedCount(channels: channels, height: h, width: w)
    let jump = shiftedJump(channels: channels, height: h, width: w)
    let vectors = pixels / 16
    let rest = pixels &- vectors &* 16
    // Input channel outermost: its shifted planes (of every image given) stay in L1 while
    // the output gradient's pairs of planes stream past.
    for c in 0..<channels {
      var o0 = 0
      while o0 < outputs {
        let pair = o0 &+ 1 < outputs
        var acc = Accumulators()
        for n in 0..<images {
          let g0 = g + (n &* outputs &+ o0) &* pixels
          let g1 = pair ? g0 + pixels : g0
          let base = s + (n &* imageShifted &+ c &* plane)
          for q in 0..<vectors {
            acc.add(load(g0 + q &* 16), load(g1 + q &* 16), taps: base + q &* 16, jump: jump, row: w)
          }
          if rest > 0 {
            let at = vectors &* 16
            acc.add(
              partial(g0 + at, count: rest), partial(g1 + at, count: rest), taps: base + at, jump: jump, row: w)
          }
        }
        acc.reduce(into: dw + (o0 &* channels &+ c) &* 9, second: pair ? dw + ((o0 &+ 1) &* channels &+ c) &* 9 : nil)
        o0 &+= 2
      }
    }
  }

  /// Images whose weight gradient one `weightGradient` call should sum: their output
  /// gradients within about 512 KB (L2) and one input channel's shifted planes of all of them
  /// within about 24 KB (L1); at least 1, at most `batch`.
  public static func weightGradientGroup(batch: Int, outputs: Int, height: Int, width: Int) -> Int {
    let byGradient = (1 << 17) / max(1, outputs * height * width)
    let byPlanes = 6 * 1024 / (3 * shiftedPlane(height: height, width: width))
    return max(1, min(batch, byGradient, byPlanes))
  }

  /// 18 running sums (two output channels × nine taps) of one input channel.
  private struct Accumulators {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V(), a8 = V()
    var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V(), b6 = V(), b7 = V(), b8 = V()

    @inline(__always)
    mutating func add(_ g0: V, _ g1: V, taps base: UnsafePointer<Float>, jump: Int, row w: Int) {
      // Tap (i, j) of pixel p is S_j[p + i·W]; `base` is S₀ at p.
      let (s1, s2) = (base + jump, base + 2 &* jump)
      var t = load(base)
      a0.addProduct(g0, t)
      b0.addProduct(g1, t)
      t = load(s1)
      a1.addProduct(g0, t)
      b1.addProduct(g1, t)
      t = load(s2)
      a2.addProduct(g0, t)
      b2.addProduct(g1, t)
      t = load(base + w)
      a3.addProduct(g0, t)
      b3.addProduct(g1, t)
      t = load(s1 + w)
      a4.addProduct(g0, t)
      b4.addProduct(g1, t)
      t = load(s2 + w)
      a5.addProduct(g0, t)
      b5.addProduct(g1, t)
      t = load(base + 2 &* w)
      a6.addProduct(g0, t)
      b6.addProduct(g1, t)
      t = load(s1 + 2 &* w)
      a7.addProduct(g0, t)
      b7.addProduct(g1, t)
      t = load(s2 + 2 &* w)
      a8.addProduct(g0, t)
      b8.addProduct(g1, t)
    }

    @inline(__always)
    func reduce(into first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>?) {
      first[0] += total(a0)
      first[1] += total(a1)
      first[2] += total(a2)
      first[3] += total(a3)
      first[4] += total(a4)
      first[5] += total(a5)
      first[6] += total(a6)
      first[7] += total(a7)
      first[8] += total(a8)
      guard let second else { return }
      second[0] += total(b0)
      second[1] += total(b1)
      second[2] += total(b2)
      second[3] += total(b3)
      second[4] += total(b4)
      second[5] += total(b5)
      second[6] += total(b6)
      second[7] += total(b7)
      second[8] += total(b8)
    }
  }

  typealias V = SIMD16<Float>

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

  @inline(__always)
  static func store(_ p: UnsafeMutablePointer<Float>, _ first: V, _ second: V) {
    UnsafeMutableRawPointer(p).storeBytes(of: first, as: V.self)
    UnsafeMutableRawPointer(p + 16).storeBytes(of: second, as: V.self)
  }

  /// The first `count` floats at `p` (fewer than 16), zeros after (no read past them).
  @inline(__always)
  static func partial(_ p: UnsafePointer<Float>, count: Int) -> V {
    var v = V()
    for lane in 0..<count { v[lane] = p[lane] }
    return v
  }

  /// The sum of a vector's lanes, halves added pairwise.
  @inline(__always)
  static func total(_ v: V) -> Float {
    let eight = v.lowHalf + v.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
  }
}
