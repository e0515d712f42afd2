extension Architecture {
  /// Names of the built-in reference architectures.
  public static let referenceNames = ["smallcnn", "smallcnn-bn", "cifarcnn"]

  /// A built-in reference architecture (DESIGN §3), or nil for an unknown name.
  public static func reference(_ name: String) -> Architecture? {
    switch name {
    case "smallcnn": return smallCNN(batchNorm: false)
    case "smallcnn-bn": return smallCNN(batchNorm: true)
    case "cifarcnn": return cifarCNN()
    default: return nil
    }
  }

  /// `smallcnn` (28×28×1): three 3×3 convs (16, 32, 64) with ReLU, max-pools after the first
  /// two, target `relu3` (64×7×7), GAP, fc 64→10. With `batchNorm`, BatchNorm follows each
  /// conv and the convs have no bias (`smallcnn-bn`).
  static func smallCNN(batchNorm: Bool) -> Architecture {
    var layers: [LayerSpec] = []
    let widths = [(1, 16), (16, 32), (32, 64)]
    for (index, (inputs, outputs)) in widths.enumerated() {
      let i = index + 1
      layers.append(.conv3x3("conv\(i)", inputs, outputs, bias: !batchNorm))
      if batchNorm { layers.append(LayerSpec(kind: "batchnorm2d", name: "bn\(i)", channels: outputs)) }
      layers.append(LayerSpec(kind: "relu", name: "relu\(i)"))
      if i < 3 { layers.append(LayerSpec(kind: "maxpool2d", name: "pool\(i)", kernel: 2)) }
    }
    layers.append(LayerSpec(kind: "gap", name: "gap"))
    layers.append(LayerSpec(kind: "linear", name: "fc", inputs: 64, outputs: 10))
    return Architecture(
      name: batchNorm ? "smallcnn-bn" : "smallcnn", input: [1, 28, 28], classes: 10,
      target: "relu3", layers: layers)
  }

  /// `cifarcnn` (32×32×3): convs 3→32→32, pool, 32→64→64, pool, 64→128 (target `relu5`,
  /// 128×8×8), each 3×3 p1 + ReLU; GAP; fc 128→10.
  static func cifarCNN() -> Architecture {
    var layers: [LayerSpec] = []
    let widths = [(3, 32), (32, 32), (32, 64), (64, 64), (64, 128)]
    for (index, (inputs, outputs)) in widths.enumerated() {
      let i = index + 1
      layers.append(.conv3x3("conv\(i)", inputs, outputs))
      layers.append(LayerSpec(kind: "relu", name: "relu\(i)"))
      if i == 2 || i == 4 { layers.append(LayerSpec(kind: "maxpool2d", name: "pool\(i / 2)", kernel: 2)) }
    }
    layers.append(LayerSpec(kind: "gap", name: "gap"))
    layers.append(LayerSpec(kind: "linear", name: "fc", inputs: 128, outputs: 10))
    return Architecture(name: "cifarcnn", input: [3, 32, 32], classes: 10, target: "relu5", layers: layers)
  }
}
