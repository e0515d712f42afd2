/// Labelled images stored compactly: N images of C×H×W bytes (CHW within an image), with
/// labels in `0..<classNames.count`. Batches are made on demand as `pixel / 255` Floats.
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

  /// Creates a set; traps if the sizes disagree or a label has no class name (the readers
  /// validate user data and throw `DatasetError` first).
  public init(
    channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classNames: [String]
  ) {
    precondition(
      channels > 0 && height > 0 && width > 0
        && pixels.count == labels.count * channels * height * width,
      "LabeledImages: \(pixels.count) pixels for \(labels.count) images of "
        + "\(channels)×\(height)×\(width)")
    precondition(
      labels.allSatisfy { $0 >= 0 && $0 < classNames.count },
      "LabeledImages: label outside 0..<\(classNames.count)")
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

  /// The images at `indices`, in that order (indices may repeat).
  public func subset(_ indices: [Int]) -> LabeledImages {
    let size = imageSize
    let out = [UInt8](unsafeUninitializedCapacity: indices.count * size) { buffer, initialized in
      pixels.withUnsafeBufferPointer { source in
        for (row, index) in indices.enumerated() {
          precondition(index >= 0 && index < count, "subset: image \(index) outside 0..<\(count)")
          let from = UnsafeBufferPointer(rebasing: source[(index * size)..<((index + 1) * size)])
          _ = UnsafeMutableBufferPointer(rebasing: buffer[(row * size)..<((row + 1) * size)])
            .initialize(from: from)
        }
      }
      initialized = indices.count * size
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: out,
      labels: indices.map { labels[$0] }, classNames: classNames)
  }

  /// Writes images `indices` as `Float(pixel) / 255` into `buffer`.
  /// - Parameter buffer: room for `indices.count · imageSize` Floats, filled as (N,C,H,W)
  ///   contiguous, image `indices[k]` at offset `k · imageSize`.
  public func fillBatch(_ indices: [Int], into buffer: UnsafeMutablePointer<Float>) {
    indices.withUnsafeBufferPointer { fill($0, into: buffer) }
  }

  /// Writes images `indices` as `Float(pixel) / 255` into `buffer`; the slice form lets a
  /// training loop pass `order[start..<end]` without copying. Layout as for `[Int]`.
  public func fillBatch(_ indices: ArraySlice<Int>, into buffer: UnsafeMutablePointer<Float>) {
    indices.withUnsafeBufferPointer { fill($0, into: buffer) }
  }

  /// Images `indices` as `Float(pixel) / 255`, (N,C,H,W) contiguous.
  public func batchFloats(_ indices: [Int]) -> [Float] {
    [Float](unsafeUninitializedCapacity: indices.count * imageSize) { buffer, initialized in
      if let base = buffer.baseAddress { fillBatch(indices, into: base) }
      initialized = indices.count * imageSize
    }
  }

  // pixels (N,C,H,W) UInt8 -> buffer (B,C,H,W) Float, B = indices.count
  private func fill(_ indices: UnsafeBufferPointer<Int>, into buffer: UnsafeMutablePointer<Float>) {
    let size = imageSize
    pixels.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      for (row, index) in indices.enumerated() {
        precondition(index >= 0 && index < count, "fillBatch: image \(index) outside 0..<\(count)")
        let from = base + index * size
        let to = buffer + row * size
        // Divide (not multiply by 1/255) so values equal torchvision's ToTensor bit for bit.
        for j in 0..<size { to[j] = Float(from[j]) / 255 }
      }
    }
  }
}
