/// Labelled images stored compactly: N images of C×H×W bytes (CHW within an image).
public struct LabeledImages: Sendable {
  /// Channels C.
  public var channels: Int
  /// Height H.
  public var height: Int
  /// Width W.
  public var width: Int
  /// N·C·H·W pixel bytes.
  public var pixels: [UInt8]
  /// N labels in `0..<classNames.count`.
  public var labels: [Int]
  /// Class names by index.
  public var classNames: [String]

  /// Creates a set; traps if the sizes disagree (loaders validate user data first).
  public init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classNames: [String]) {
    precondition(
      pixels.count == labels.count * channels * height * width,
      "LabeledImages: \(pixels.count) pixels for \(labels.count) images of \(channels)×\(height)×\(width)")
    precondition(
      labels.allSatisfy { $0 >= 0 && $0 < classNames.count }, "LabeledImages: label outside 0..<\(classNames.count)")
    self.channels = channels
    self.height = height
    self.width = width
    self.pixels = pixels
    self.labels = labels
    self.classNames = classNames
  }

  /// Number of images N.
  public var count: Int { labels.count }
  /// Bytes per image C·H·W.
  public var imageSize: Int { channels * height * width }

  /// The images at `indices`, in that order.
  public func subset(_ indices: [Int]) -> LabeledImages {
    var out = [UInt8]()
    out.reserveCapacity(indices.count * imageSize)
    for i in indices { out.append(contentsOf: pixels[i * imageSize..<(i + 1) * imageSize]) }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: out, labels: indices.map { labels[$0] },
      classNames: classNames)
  }

  /// Writes images `indices` as `pixel/255` Floats into `buffer` ((N,C,H,W) contiguous).
  public func fillBatch(_ indices: [Int], into buffer: UnsafeMutablePointer<Float>) {
    let size = imageSize
    pixels.withUnsafeBufferPointer { source in
      for (row, index) in indices.enumerated() {
        precondition(index >= 0 && index < count, "fillBatch: image \(index) outside 0..<\(count)")
        let from = index * size
        let to = buffer + row * size
        // Divide (not multiply by 1/255) so values equal torchvision's ToTensor bit for bit.
        for j in 0..<size { to[j] = Float(source[from + j]) / 255 }
      }
    }
  }

  /// Images `indices` as `pixel/255` Floats ((N,C,H,W) contiguous).
  public func batchFloats(_ indices: [Int]) -> [Float] {
    [Float](unsafeUninitializedCapacity: indices.count * imageSize) { buffer, initialized in
      if let base = buffer.baseAddress { fillBatch(indices, into: base) }
      initialized = indices.count * imageSize
    }
  }
}
