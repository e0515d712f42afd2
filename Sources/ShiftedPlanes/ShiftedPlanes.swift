/// The shifted-plane layout the direct 3×3 "same" convolution kernels (stride 1, zero padding 1)
/// read, its sizes, and the copy that fills it. Compiled for the baseline CPU: the engine calls
/// these on any CPU, and the kernels that read the layout (module `DirectConv` for AVX-512,
/// `DirectConvAVX2` for AVX2) are picked by `Engine`'s `DirectConvolutionSupport`.
///
/// Shifted planes. A channel's plane x (H×W) becomes three planes S₀, S₁, S₂ of (H+2)×W
/// floats, `S_j[(y+1)·W + x] = x[y, x + j − 1]` (0 outside the image), rows 0 and H+1 zero,
/// followed by `slack(height:width:)` zeros. An output pixel p = y·W + x then reads tap (i, j) at
/// `S_j[p + i·W]`: every tap of a run of consecutive output pixels is a run of consecutive
/// floats, whatever W is, so one vector load serves 16 (or 8) output pixels (across row ends too).
/// Layout: S_j of channel c at `j·jump + c·plane` (`plane`, `jump`): planes are
/// whole cache lines, and the three groups of C planes and consecutive images are offset by a
/// few extra lines, so that the nine taps' loads of one channel (and the same channel of the
/// next images) do not fall on the same L1 sets. Without it, a 64-channel layer's S₀, S₁, S₂ sat
/// a multiple of 4 KB apart, and the weight gradient ran at half speed.
///
/// Weights are stored tap-major, `[(c·9 + i·3 + j)·O′ + o]`, O′ = O rounded up to
/// `outputBlock` (`paddedOutputs`), zeros beyond O.
public enum ShiftedPlanes {
  /// Zero floats after each shifted plane: a forward block's loads run up to the last pixel
  /// of its 32 (plus two rows of taps below), so up to H·W rounded up to 32.
  public static func slack(height: Int, width: Int) -> Int { (height * width + 31) / 32 * 32 - height * width }

  /// Output channels per forward block (weights are padded to a multiple of it).
  public static let outputBlock = 8

  /// Floats per shifted plane: (H+2)·W + `slack`, rounded up to a whole 64-byte line.
  public static func plane(height: Int, width: Int) -> Int {
    ((height + 2) * width + slack(height: height, width: width) + 15) / 16 * 16
  }

  /// Floats from S_j to S_{j+1} of the same channel: C planes and five lines.
  public static func jump(channels: Int, height: Int, width: Int) -> Int {
    channels * plane(height: height, width: width) + 5 * 16
  }

  /// Floats of one image's shifted planes (3 jumps and seven lines; the next image's begin there).
  public static func count(channels: Int, height: Int, width: Int) -> Int {
    3 * jump(channels: channels, height: height, width: width) + 7 * 16
  }

  /// Readable floats the tap-major weights need after their last (the AVX2 kernels read 6
  /// outputs' weights per tap, up to 5 past the last output).
  public static let weightSlack = 8

  /// O rounded up to a multiple of `outputBlock`.
  public static func paddedOutputs(_ outputs: Int) -> Int { (outputs + outputBlock - 1) / outputBlock * outputBlock }

  /// Fills `s` (`count` floats) with the shifted planes of `x` (C,H,W).
  public static func shift(
    _ x: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int, into s: UnsafeMutablePointer<Float>
  ) {
    let planeFloats = plane(height: h, width: w)
    let jumpFloats = jump(channels: channels, height: h, width: w)
    for j in 0..<3 {
      for c in 0..<channels {
        let target = s + (j &* jumpFloats &+ c &* planeFloats)
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
        (body + h &* w).update(repeating: 0, count: planeFloats &- (h &+ 1) &* w)
      }
    }
  }

  /// Images whose weight gradient one `weightGradient` call should sum: their output
  /// gradients within about 512 KB (L2) and one input channel's shifted planes of all of them
  /// within about 24 KB (L1); at least 1, at most `batch`.
  public static func weightGradientGroup(batch: Int, outputs: Int, height: Int, width: Int) -> Int {
    let byGradient = (1 << 17) / max(1, outputs * height * width)
    let byPlanes = 6 * 1024 / (3 * plane(height: height, width: width))
    return max(1, min(batch, byGradient, byPlanes))
  }
}
