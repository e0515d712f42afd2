import ShiftedPlanes

/// Direct 3×3 "same" convolution kernels (stride 1, zero padding 1) in 16-float vectors, the
/// forward pass and both gradients, over the `ShiftedPlanes` layout. This module is compiled
/// for AVX-512 (`-target-cpu skylake-avx512` in Package.swift): call nothing in it unless
/// `Engine`'s `DirectConvolutionSupport` says the CPU has AVX-512 (module `DirectConvAVX2`
/// has the same kernels for AVX2; the engine falls back to im2col + SGEMM without either).
/// The kernels are `@inline(never)` and not `@inlinable`, so their vector code stays here.
///
/// Forward. Per block of 8 output channels × 32 output pixels, 16 accumulators of 16 floats:
/// for each input channel and tap, two loads of S, eight broadcast weights and 16 fused
/// multiply-adds. The input gradient is the same convolution of the output gradient with the
/// flipped, transposed kernel; the weight gradient sums, per pair of output channels and input
/// channel, 18 products of the output gradient's pixels with the nine taps' shifted runs.
public enum DirectConvolution {
  /// `out` (O,H,W) = the convolution of the image whose shifted planes are `s` (C channels)
  /// with weights `wt` (`[(c·9 + t)·O′ + o]`, O′ = `paddedOutputs(O)`), plus `bias` (O) if given.
  @inline(never)
  public static func forward(
    shifted s: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, weights wt: UnsafePointer<Float>,
    outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = ShiftedPlanes.plane(height: h, width: w)
    let jump = ShiftedPlanes.jump(channels: channels, height: h, width: w)
    let stride = ShiftedPlanes.paddedOutputs(outputs)
    let tail = UnsafeMutablePointer<Float>.allocate(capacity: ShiftedPlanes.outputBlock &* 32)
    defer { tail.deallocate() }
    var o0 = 0
    while o0 < outputs {
      var p0 = 0
      while p0 < pixels {
        let full = p0 &+ 32 <= pixels && o0 &+ ShiftedPlanes.outputBlock <= outputs
        let target = full ? out + (o0 &* pixels &+ p0) : tail
        block(
          s: s + p0, channels: channels, plane: plane, jump: jump, rowStep: w, weights: wt + o0, stride: stride,
          bias: bias.map { $0 + o0 }, biasCount: min(ShiftedPlanes.outputBlock, outputs &- o0), into: target,
          outputStride: full ? pixels : 32)
        if !full {
          for o in 0..<min(ShiftedPlanes.outputBlock, outputs &- o0) {
            (out + ((o0 &+ o) &* pixels &+ p0)).update(from: tail + o &* 32, count: min(32, pixels &- p0))
          }
        }
        p0 &+= 32
      }
      o0 &+= ShiftedPlanes.outputBlock
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
