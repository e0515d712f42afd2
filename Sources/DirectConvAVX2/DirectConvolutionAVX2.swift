import ShiftedPlanes

/// The direct 3×3 "same" convolution kernels of module `DirectConv`, for AVX2 (`-target-cpu
/// haswell` in Package.swift): the same layout (`ShiftedPlanes`), arguments and results, in
/// 8-float vectors and with blocks that fit AVX2's 16 vector registers. Call nothing in it
/// unless `Engine`'s `DirectConvolutionSupport` says the CPU has AVX2 and FMA.
///
/// Forward. A block of 8 output channels × 32 output pixels is taken as four quarters of
/// 4 channels × 16 pixels, each with 8 accumulators of 8 floats: for each input channel and
/// tap, two loads of S, four broadcast weights and 8 fused multiply-adds; every output sums
/// its products in the AVX-512 kernel's order (bias, then channel by channel, tap by tap).
/// The weight gradient sums, per output channel and
/// input channel, 9 products of the output gradient's pixels with the nine taps' shifted runs
/// (one output channel at a time: a pair would need 18 accumulators).
public enum DirectConvolutionAVX2 {
  /// `out` (O,H,W) = the convolution of the image whose shifted planes are `s` (C channels)
  /// with weights `wt` (`[(c·9 + t)·O′ + o]`, O′ = `ShiftedPlanes.paddedOutputs(O)`), plus
  /// `bias` (O) if given.
  @inline(never)
  public static func forward(
    shifted s: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, weights wt: UnsafePointer<Float>,
    outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
  ) {
    let pixels = h &* w
    let plane = ShiftedPlanes.plane(height: h, width: w)
    let jump = ShiftedPlanes.jump(channels: channels, height: h, width: w)
    let stride = ShiftedPlanes.paddedOutputs(outputs)
    let block = ShiftedPlanes.outputBlock
    let tail = UnsafeMutablePointer<Float>.allocate(capacity: block &* 32)
    defer { tail.deallocate() }
    var o0 = 0
    while o0 < outputs {
      var p0 = 0
      while p0 < pixels {
        let full = p0 &+ 32 <= pixels && o0 &+ block <= outputs
        let target = full ? out + (o0 &* pixels &+ p0) : tail
        let outputStride = full ? pixels : 32
        for half in 0..<2 {
          let first = o0 &+ 4 &* half
          for side in 0..<2 {
            quarter(
              s: s + (p0 &+ 16 &* side), channels: channels, plane: plane, jump: jump, rowStep: w,
              weights: wt + first, stride: stride, bias: bias.map { $0 + first },
              biasCount: max(0, min(4, outputs &- first)),
              into: target + (4 &* half &* outputStride &+ 16 &* side), outputStride: outputStride)
          }
        }
        if !full {
          for o in 0..<min(block, outputs &- o0) {
            (out + ((o0 &+ o) &* pixels &+ p0)).update(from: tail + o &* 32, count: min(32, pixels &- p0))
          }
        }
        p0 &+= 32
      }
      o0 &+= block
    }
  }

  /// One 4 × 16 quarter: `s` points at its first pixel in S₀ of channel 0 (tap (i, j) of
  /// channel c is `c·plane + j·jump + i·W` further).
  @inline(__always)
  private static func quarter(
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
          wk += stride
        }
      }
    }
    let o = outputStride
    store(out, a00, a01)
    store(out + o, a10, a11)
    store(out + 2 &* o, a20, a21)
    store(out + 3 &* o, a30, a31)
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
    // the output gradient's planes stream past.
    for c in 0..<channels {
      for o in 0..<outputs {
        var acc = Accumulators()
        for n in 0..<images {
          let g0 = g + (n &* outputs &+ o) &* pixels
          let base = s + (n &* imageShifted &+ c &* plane)
          for q in 0..<vectors {
            acc.add(load(g0 + q &* 8), taps: base + q &* 8, jump: jump, row: w)
          }
          if rest > 0 {
            let at = vectors &* 8
            acc.add(partial(g0 + at, count: rest), taps: base + at, jump: jump, row: w)
          }
        }
        acc.reduce(into: dw + (o &* channels &+ c) &* 9)
      }
    }
  }

  /// 9 running sums (one output channel × nine taps) of one input channel.
  private struct Accumulators {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V(), a8 = V()

    @inline(__always)
    mutating func add(_ g: V, taps base: UnsafePointer<Float>, jump: Int, row w: Int) {
      // Tap (i, j) of pixel p is S_j[p + i·W]; `base` is S₀ at p.
      let (s1, s2) = (base + jump, base + 2 &* jump)
      a0.addProduct(g, load(base))
      a1.addProduct(g, load(s1))
      a2.addProduct(g, load(s2))
      a3.addProduct(g, load(base + w))
      a4.addProduct(g, load(s1 + w))
      a5.addProduct(g, load(s2 + w))
      a6.addProduct(g, load(base + 2 &* w))
      a7.addProduct(g, load(s1 + 2 &* w))
      a8.addProduct(g, load(s2 + 2 &* w))
    }

    @inline(__always)
    func reduce(into sums: UnsafeMutablePointer<Float>) {
      sums[0] += total(a0)
      sums[1] += total(a1)
      sums[2] += total(a2)
      sums[3] += total(a3)
      sums[4] += total(a4)
      sums[5] += total(a5)
      sums[6] += total(a6)
      sums[7] += total(a7)
      sums[8] += total(a8)
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
