import ShiftedPlanes

/// The direct 3×3 "same" convolution kernels of module `DirectConv`, for AVX2 (`-target-cpu
/// haswell` in Package.swift): the same layout (`ShiftedPlanes`), arguments and results, in
/// 8-float vectors and with blocks that fit AVX2's 16 vector registers. Call nothing in it
/// unless `Engine`'s `DirectConvolutionSupport` says the CPU has AVX2 and FMA.
///
/// Forward. Blocks of 6 output channels × 16 output pixels, 12 accumulators of 8 floats: for
/// each input channel and tap, two loads of S, six broadcast weights and 12 fused
/// multiply-adds; every output sums its products in the AVX-512 kernel's order (bias, then
/// channel by channel, tap by tap). The last block of a layer whose output count is not a
/// multiple of 6 reads weights past its row (`ShiftedPlanes.weightSlack`). The weight
/// gradient sums, per pair of output channels and input channel, 18 products of the output gradient's pixels with the nine taps' shifted
/// runs, in two passes (taps 0–5, then 6–8: all 18 accumulators would not fit in 16 registers).
public enum DirectConvolutionAVX2 {
  /// Output channels per forward block: 6 × 16 pixels is 12 accumulators, enough independent
  /// sums to keep both FMA units busy (Zen 3: latency 4), with 3 registers left for the loads.
  static let group = 6

  /// `out` (O,H,W) = the convolution of the image whose shifted planes are `s` (C channels)
  /// with weights `wt` (`[(c·9 + t)·O′ + o]`, O′ = `ShiftedPlanes.paddedOutputs(O)`, and
  /// `weightSlack` readable floats after the last), plus `bias` (O) if given.
  @inline(never)
  public static func forward(
    shifted s: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, weights wt: UnsafePointer<Float>,
    outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = ShiftedPlanes.plane(height: h, width: w)
    let jump = ShiftedPlanes.jump(channels: channels, height: h, width: w)
    let stride = ShiftedPlanes.paddedOutputs(outputs)
    let tail = UnsafeMutablePointer<Float>.allocate(capacity: group &* 16)
    defer { tail.deallocate() }
    var o0 = 0
    while o0 < outputs {
      let count = min(group, outputs &- o0)
      var p0 = 0
      while p0 < pixels {
        let full = p0 &+ 16 <= pixels && count == group
        block(
          s: s + p0, channels: channels, plane: plane, jump: jump, rowStep: w, weights: wt + o0, stride: stride,
          bias: bias.map { $0 + o0 }, biasCount: count, into: full ? out + (o0 &* pixels &+ p0) : tail,
          outputStride: full ? pixels : 16)
        if !full {
          for o in 0..<count {
            (out + ((o0 &+ o) &* pixels &+ p0)).update(from: tail + o &* 16, count: min(16, pixels &- p0))
          }
        }
        p0 &+= 16
      }
      o0 &+= group
    }
  }

  /// One 6 × 16 block: `s` points at its first pixel in S₀ of channel 0 (tap (i, j) of
  /// channel c is `c·plane + j·jump + i·W` further). Reads 6 weights per tap whatever
  /// `biasCount` is (the weights' slack covers the last block's).
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
    var wk = weights
    for c in 0..<channels {
      let channelBase = s + c &* plane
      for i in 0..<3 {
        for j in 0..<3 {
          let row = channelBase + (j &* jump &+ i &* w)
          let p0 = load(row)
          let p1 = load(row + 8)
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
  }

  /// `dw` (O, C·9) += Σ over `images` images of Σ_p g[o, p] · S_j[c][p + i·W] for tap t = 3i + j:
  /// `g` is the images' output gradients (images × O × H·W, contiguous), `s` their shifted
  /// input planes (images × `ShiftedPlanes.count`, contiguous).
  @inline(never)
  public static func weightGradient(
    gradient g: UnsafePointer<Float>, shifted s: UnsafePointer<Float>, images: Int, channels: Int, height h: Int,
    width w: Int, outputs: Int, into dw: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = ShiftedPlanes.plane(height: h, width: w)
    let imageShifted = ShiftedPlanes.count(channels: channels, height: h, width: w)
    let jump = ShiftedPlanes.jump(channels: channels, height: h, width: w)
    let vectors = pixels / 8
    let rest = pixels &- vectors &* 8
    // Input channel outermost: its shifted planes (of every image given) stay in L1 while
    // the output gradient's pairs of planes stream past, twice: taps 0–5, then 6–8.
    for c in 0..<channels {
      var o0 = 0
      while o0 < outputs {
        let pair = o0 &+ 1 < outputs
        var upper = Upper()
        var lower = Lower()
        for n in 0..<images {
          let g0 = g + (n &* outputs &+ o0) &* pixels
          let g1 = pair ? g0 + pixels : g0
          let base = s + (n &* imageShifted &+ c &* plane)
          sweep(&upper, g0, g1, taps: base, vectors: vectors, rest: rest, jump: jump, row: w)
          sweep(&lower, g0, g1, taps: base, vectors: vectors, rest: rest, jump: jump, row: w)
        }
        let first = dw + (o0 &* channels &+ c) &* 9
        let second = pair ? dw + ((o0 &+ 1) &* channels &+ c) &* 9 : nil
        upper.reduce(into: first, second: second)
        lower.reduce(into: first + 6, second: second.map { $0 + 6 })
        o0 &+= 2
      }
    }
  }

  /// Running sums of two output channels over some of the nine taps.
  private protocol PairSums {
    /// Adds the products of pixels' output gradients `g0`, `g1` with their taps (`base` is S₀
    /// at the pixels).
    mutating func add(_ g0: V, _ g1: V, taps base: UnsafePointer<Float>, jump: Int, row w: Int)
  }

  /// Adds one image's pixels to `sums`: `vectors` whole vectors of 8, then `rest` pixels.
  @inline(__always)
  private static func sweep<Sums: PairSums>(
    _ sums: inout Sums, _ g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>, taps base: UnsafePointer<Float>,
    vectors: Int, rest: Int, jump: Int, row w: Int
  ) {
    for q in 0..<vectors {
      sums.add(load(g0 + q &* 8), load(g1 + q &* 8), taps: base + q &* 8, jump: jump, row: w)
    }
    if rest > 0 {
      let at = vectors &* 8
      sums.add(partial(g0 + at, count: rest), partial(g1 + at, count: rest), taps: base + at, jump: jump, row: w)
    }
  }

  /// Taps 0–5 (rows i = 0, 1) of two output channels: 12 running sums, with the two output
  /// gradients and one tap in registers (15 of AVX2's 16).
  private struct Upper: PairSums {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
    var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V()

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
    }

    @inline(__always)
    func reduce(into first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>?) {
      first[0] += total(a0)
      first[1] += total(a1)
      first[2] += total(a2)
      first[3] += total(a3)
      first[4] += total(a4)
      first[5] += total(a5)
      guard let second else { return }
      second[0] += total(b0)
      second[1] += total(b1)
      second[2] += total(b2)
      second[3] += total(b3)
      second[4] += total(b4)
      second[5] += total(b5)
    }
  }

  /// Taps 6–8 (row i = 2) of two output channels: 6 running sums.
  private struct Lower: PairSums {
    var a0 = V(), a1 = V(), a2 = V()
    var b0 = V(), b1 = V(), b2 = V()

    @inline(__always)
    mutating func add(_ g0: V, _ g1: V, taps base: UnsafePointer<Float>, jump: Int, row w: Int) {
      let bottom = base + 2 &* w
      var t = load(bottom)
      a0.addProduct(g0, t)
      b0.addProduct(g1, t)
      t = load(bottom + jump)
      a1.addProduct(g0, t)
      b1.addProduct(g1, t)
      t = load(bottom + 2 &* jump)
      a2.addProduct(g0, t)
      b2.addProduct(g1, t)
    }

    @inline(__always)
    func reduce(into first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>?) {
      first[0] += total(a0)
      first[1] += total(a1)
      first[2] += total(a2)
      guard let second else { return }
      second[0] += total(b0)
      second[1] += total(b1)
      second[2] += total(b2)
    }
  }

  typealias V = SIMD8<Float>

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

  @inline(__always)
  static func store(_ p: UnsafeMutablePointer<Float>, _ first: V, _ second: V) {
    UnsafeMutableRawPointer(p).storeBytes(of: first, as: V.self)
    UnsafeMutableRawPointer(p + 8).storeBytes(of: second, as: V.self)
  }

  /// The first `count` floats at `p` (fewer than 8), zeros after (no read past them).
  @inline(__always)
  static func partial(_ p: UnsafePointer<Float>, count: Int) -> V {
    var v = V()
    for lane in 0..<count { v[lane] = p[lane] }
    return v
  }

  /// The sum of a vector's lanes, halves added pairwise.
  @inline(__always)
  static func total(_ v: V) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
  }
}
