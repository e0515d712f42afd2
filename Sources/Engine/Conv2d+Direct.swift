import DirectConv
import DirectConvAVX2
import ShiftedPlanes

/// Which implementation a `Conv2d` runs.
public enum ConvolutionPath: Sendable {
  /// The best direct kernels the CPU has for a 3×3 "same" convolution (stride 1, padding 1)
  /// (`DirectConvolutionSupport.kernels`), im2col + SGEMM otherwise.
  case automatic
  /// Always im2col + SGEMM.
  case im2col
  /// The AVX2 direct kernels where the CPU has AVX2 and the convolution is 3×3 "same", else
  /// im2col + SGEMM (tests and benchmarks run them on a CPU that would take AVX-512's).
  case avx2
}

/// The direct path (modules `ShiftedPlanes`, `DirectConv`, `DirectConvAVX2`): per image, the
/// input's three shifted planes, then blocks of 8 output channels × 32 pixels in AVX-512 (or
/// AVX2) registers. It replaces im2col, the
/// SGEMM's own packing of the im2col matrix and the layout copies around it (per image the
/// output is written in place), which were 40% of a cifarcnn step. Images are split over the
/// engine's workers (serial inside a replica); the weight gradient is summed per worker and
/// added up at the end, as on the im2col path.
extension Conv2d {
  /// Whether this layer runs direct kernels.
  public var takesDirectPath: Bool { directKernels != nil }

  /// The direct kernels this layer runs (nil: im2col + SGEMM).
  public var directKernels: DirectKernels? {
    guard kernelSize == 3 && stride == 1 && padding == 1 else { return nil }
    switch path {
    case .automatic: return DirectConvolutionSupport.kernels
    case .im2col: return nil
    case .avx2: return DirectConvolutionSupport.runs(.avx2) ? .avx2 : nil
    }
  }

  /// `out` = the convolution of one image's shifted planes `s` with tap-major weights `wt`, by
  /// `kernels`.
  private func directConvolve(
    _ kernels: DirectKernels, shifted s: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
    weights wt: UnsafePointer<Float>, outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
  ) {
    switch kernels {
    case .avx512:
      DirectConvolution.forward(
        shifted: s, channels: channels, height: height, width: width, weights: wt, outputs: outputs, bias: bias,
        into: out)
    case .avx2:
      DirectConvolutionAVX2.forward(
        shifted: s, channels: channels, height: height, width: width, weights: wt, outputs: outputs, bias: bias,
        into: out)
    }
  }

  /// Workers for `batch` images: one inside a replica or for a single image.
  private func directWorkers(_ batch: Int) -> Int {
    Parallel.isSerialHere ? 1 : max(1, min(Parallel.workers, batch))
  }

  /// `w` (O, C·9) as the kernels' tap-major weights `[(c·9 + t)·O′ + o]`, O′ a multiple of 8, and
  /// `ShiftedPlanes.weightSlack` zeros after them;
  /// with `flipped`, the input gradient's kernel `[(o·9 + t)·C′ + c] = w[o, c, 8 − t]`.
  private func tapMajorWeights(flipped: Bool) -> [Float] {
    let (o, c) = (outputChannels, inputChannels)
    let columns = ShiftedPlanes.paddedOutputs(flipped ? c : o)
    var result = [Float](repeating: 0, count: (flipped ? o : c) * 9 * columns + ShiftedPlanes.weightSlack)
    weight.value.withPointer { w in
      for oi in 0..<o {
        for ci in 0..<c {
          for t in 0..<9 {
            let value = w[(oi * c + ci) * 9 + t]
            if flipped {
              result[(oi * 9 + 8 - t) * columns + ci] = value
            } else {
              result[(ci * 9 + t) * columns + oi] = value
            }
          }
        }
      }
    }
    return result
  }

  func directForward(_ input: Tensor, outputShape: [Int], kernels: DirectKernels) -> Tensor {
    let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let plane = height * width
    let shifted = ShiftedPlanes.count(channels: channels, height: height, width: width)
    let workers = directWorkers(batch)
    scratch.reserve(workers: workers, count: shifted)
    let weights = tapMajorWeights(flipped: false)
    let biasValues = bias?.value.scalars ?? []
    var output = Tensor(shape: outputShape) { _ in }
    input.withPointer { x in
      output.withMutablePointer { out in
        let target = UncheckedPointer(out)
        weights.withUnsafeBufferPointer { wt in
          biasValues.withUnsafeBufferPointer { b in
            Parallel.forEach(0..<workers) { worker in
              guard let out = target.pointer, let wt = wt.baseAddress else { return }
              let buffer = scratch.buffer(worker)
              for n in (worker * batch / workers)..<((worker + 1) * batch / workers) {
                ShiftedPlanes.shift(
                  x + n * channels * plane, channels: channels, height: height, width: width, into: buffer)
                directConvolve(
                  kernels, shifted: buffer, channels: channels, height: height, width: width, weights: wt,
                  outputs: outputChannels, bias: b.isEmpty ? nil : b.baseAddress, into: out + n * outputChannels * plane
                )
              }
            }
          }
        }
      }
    }
    return output
  }

  func directBackward(_ gradOutput: Tensor, input: Tensor, needs: BackwardNeeds, kernels: DirectKernels) -> Tensor {
    let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let plane = height * width
    let (inputPlane, outputPlane) = (channels * plane, outputChannels * plane)
    let shiftedInput = ShiftedPlanes.count(channels: channels, height: height, width: width)
    let shiftedGradient = ShiftedPlanes.count(channels: outputChannels, height: height, width: width)
    let group = ShiftedPlanes.weightGradientGroup(
      batch: batch, outputs: outputChannels, height: height, width: width)
    let workers = directWorkers(batch)
    let weights = outputChannels * channels * 9
    // Per worker: a group's shifted inputs, or one shifted output gradient; dW; db.
    let dwAt = max(group * shiftedInput, shiftedGradient)
    let dbAt = dwAt + weights
    scratch.reserve(workers: workers, count: dbAt + outputChannels)
    let flipped = needs.inputGradient ? tapMajorWeights(flipped: true) : []
    var gradInput =
      needs.inputGradient ? Tensor(shape: input.shape) { _ in } : Tensor(shape: [0])
    input.withPointer { x in
      gradOutput.withPointer { gout in
        gradInput.withMutablePointer { din in
          let target = UncheckedPointer(din)
          flipped.withUnsafeBufferPointer { wf in
            Parallel.forEach(0..<workers) { worker in
              let buffer = scratch.buffer(worker)
              let images = (worker * batch / workers)..<((worker + 1) * batch / workers)
              if needs.parameterGradients {
                let (dw, db) = (buffer + dwAt, buffer + dbAt)
                dw.update(repeating: 0, count: weights)
                db.update(repeating: 0, count: outputChannels)
                for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                  let count = min(group, images.upperBound - first)
                  for index in 0..<count {
                    ShiftedPlanes.shift(
                      x + (first + index) * inputPlane, channels: channels, height: height, width: width,
                      into: buffer + index * shiftedInput)
                  }
                  let (gradient, shifted) = (gout + first * outputPlane, UnsafePointer(buffer))
                  switch kernels {
                  case .avx512:
                    DirectConvolution.weightGradient(
                      gradient: gradient, shifted: shifted, images: count, channels: channels, height: height,
                      width: width, outputs: outputChannels, into: dw)
                  case .avx2:
                    DirectConvolutionAVX2.weightGradient(
                      gradient: gradient, shifted: shifted, images: count, channels: channels, height: height,
                      width: width, outputs: outputChannels, into: dw)
                  }
                }
                for n in images {
                  for o in 0..<outputChannels {
                    db[o] += Reductions.sum(gout + n * outputPlane + o * plane, count: plane)
                  }
                }
              }
              if needs.inputGradient, let din = target.pointer, let wf = wf.baseAddress {
                for n in images {
                  ShiftedPlanes.shift(
                    gout + n * outputPlane, channels: outputChannels, height: height, width: width, into: buffer)
                  directConvolve(
                    kernels, shifted: buffer, channels: outputChannels, height: height, width: width, weights: wf,
                    outputs: channels, bias: nil, into: din + n * inputPlane)
                }
              }
            }
          }
        }
      }
    }
    if needs.parameterGradients { sumWorkerGradients(workers: workers, weightsAt: dwAt, biasAt: dbAt) }
    return gradInput
  }
}
