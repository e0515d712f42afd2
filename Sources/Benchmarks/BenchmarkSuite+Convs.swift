import Dispatch
import Engine
import Foundation

extension BenchmarkSuite {
  /// 'convs': every 3×3 convolution of the reference architectures at a replica's batch (32
  /// images, one thread, as in training on 2 cores), on both paths when the CPU has the direct
  /// kernels: microseconds per image and GFLOP/s for the forward pass, the weight gradient and
  /// the input gradient, each timed alone (median of 20 after 5 warm-up rounds).
  func convs(_ emit: (String) -> Void) {
    let layers: [(String, Int, Int, Int)] = [
      ("smallcnn.conv1", 1, 16, 28), ("smallcnn.conv2", 16, 32, 14), ("smallcnn.conv3", 32, 64, 7),
      ("cifarcnn.conv1", 3, 32, 32), ("cifarcnn.conv2", 32, 32, 32), ("cifarcnn.conv3", 32, 64, 16),
      ("cifarcnn.conv4", 64, 64, 16), ("cifarcnn.conv5", 64, 128, 8),
    ]
    let batch = 32
    let rounds = quick ? 3 : 20
    var generator = SplitMix64(seed: 17)
    for (name, inputs, outputs, size) in layers {
      let conv = Conv2d(
        name: name, inputChannels: inputs, outputChannels: outputs, kernelSize: 3, padding: 1, generator: &generator)
      let input = Tensor.uniform(shape: [batch, inputs, size, size], bound: 1, using: &generator)
      let gradient = Tensor.uniform(shape: [batch, outputs, size, size], bound: 1, using: &generator)
      let flops = 2.0 * Double(outputs * inputs * 9 * size * size)
      // Every set of kernels the CPU runs (.automatic is AVX-512's where it runs), then im2col.
      let paths: [ConvolutionPath] =
        (DirectConvolutionSupport.kernels == .avx512 ? [.automatic] : [])
        + (DirectConvolutionSupport.runs(.avx2) ? [.avx2] : []) + [.im2col]
      for path in paths {
        conv.path = path
        var samples: [[Double]] = [[], [], []]
        Parallel.replicas(1) { _ in
          for round in 0..<(rounds + 5) {
            var stamps = [DispatchTime.now().uptimeNanoseconds]
            _ = conv.forward(input, training: true)
            stamps.append(DispatchTime.now().uptimeNanoseconds)
            _ = conv.backward(gradient, needs: BackwardNeeds(inputGradient: false))
            stamps.append(DispatchTime.now().uptimeNanoseconds)
            _ = conv.backward(gradient, needs: BackwardNeeds(parameterGradients: false))
            stamps.append(DispatchTime.now().uptimeNanoseconds)
            guard round >= 5 else { continue }
            for part in 0..<3 { samples[part].append(Double(stamps[part + 1] - stamps[part]) / 1e3 / Double(batch)) }
          }
        }
        let medians = samples.map { $0.sorted()[$0.count / 2] }
        emit(
          line([
            "figure": "conv_layer", "layer": name, "inputs": inputs, "outputs": outputs, "size": size, "batch": batch,
            "path": conv.directKernels.map { "direct_\($0.rawValue)" } ?? "im2col",
            "forward_microseconds_per_image": medians[0], "forward_gflops": flops / medians[0] / 1e3,
            "weight_gradient_microseconds_per_image": medians[1], "weight_gradient_gflops": flops / medians[1] / 1e3,
            "input_gradient_microseconds_per_image": medians[2], "input_gradient_gflops": flops / medians[2] / 1e3,
          ]))
      }
    }
  }
}
