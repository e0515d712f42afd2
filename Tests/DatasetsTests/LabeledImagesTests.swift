import Datasets
import Testing

@Suite struct LabeledImagesTests {
  /// 3 images of 2 channels × 1 × 2 (4 bytes each): 0 1 2 3 | 10 11 12 13 | 255 51 102 0.
  let set = LabeledImages(
    channels: 2, height: 1, width: 2, pixels: [0, 1, 2, 3, 10, 11, 12, 13, 255, 51, 102, 0],
    labels: [0, 1, 1], classNames: ["a", "b"])

  @Test func sizes() {
    #expect(set.count == 3 && set.imageSize == 4)
  }

  /// Batch row k holds image indices[k] divided by 255, CHW order kept (51/255 = 0.2).
  @Test func fillBatchWritesPixelOver255AtTheRightPositions() {
    var buffer = [Float](repeating: -1, count: 13)
    buffer.withUnsafeMutableBufferPointer { set.fillBatch([2, 0, 2], into: $0.baseAddress!) }
    let expected: [Float] = [1, 0.2, 0.4, 0, 0, 1 / 255, 2 / 255, 3 / 255, 1, 0.2, 0.4, 0]
    #expect(Array(buffer[..<12]) == expected)
    #expect(buffer[12] == -1)  // nothing past the batch
    #expect(set.batchFloats([2, 0, 2]) == expected)
  }

  @Test func fillBatchTakesASliceWithoutCopying() {
    let order = [1, 2, 0, 1]
    var buffer = [Float](repeating: 0, count: 8)
    buffer.withUnsafeMutableBufferPointer { set.fillBatch(order[1..<3], into: $0.baseAddress!) }
    #expect(buffer == set.batchFloats([2, 0]))
  }

  /// Every byte value maps to exactly Float(v) / 255, as torchvision's ToTensor does.
  @Test func allByteValuesScaleExactly() {
    let all = LabeledImages(
      channels: 1, height: 16, width: 16, pixels: (0...255).map { UInt8($0) }, labels: [0],
      classNames: ["a"])
    #expect(all.batchFloats([0]) == (0...255).map { Float($0) / 255 })
  }

  @Test func subsetKeepsOrderAndLabels() {
    let sub = set.subset([2, 0])
    #expect(sub.pixels == [255, 51, 102, 0, 0, 1, 2, 3])
    #expect(sub.labels == [1, 0] && sub.classNames == ["a", "b"] && sub.channels == 2)
    #expect(set.subset([]).count == 0)
  }
}
