import CZlib
import ClientCore
import Foundation
import Imaging
import Testing

@Suite struct PNGImageTests {
  /// A 2×1 image: signature, IHDR (2×1, depth 8, RGB), IDAT inflating to the two filter-0
  /// scanline bytes, IEND with its fixed CRC AE 42 60 82.
  @Test func encodesAValidPNG() throws {
    var image = PNGImage(width: 2, height: 1)
    image.set(0, 0, (255, 0, 0))
    image.set(1, 0, (0, 0, 255))
    let bytes = try image.encoded()
    #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(Array(bytes[8..<16]) == [0, 0, 0, 13] + Array("IHDR".utf8))
    #expect(Array(bytes[16..<29]) == [0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0])
    #expect(Array(bytes.suffix(12)) == [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
    // IDAT: length at 33, type at 37, data from 41.
    let length = Int(bytes[33]) << 24 | Int(bytes[34]) << 16 | Int(bytes[35]) << 8 | Int(bytes[36])
    #expect(Array(bytes[37..<41]) == Array("IDAT".utf8))
    var inflated = [UInt8](repeating: 0, count: 64)
    var size = uLongf(inflated.count)
    let idat = Array(bytes[41..<(41 + length)])
    #expect(uncompress(&inflated, &size, idat, uLong(idat.count)) == Z_OK)
    #expect(Array(inflated[0..<Int(size)]) == [0, 255, 0, 0, 0, 0, 255])
  }

  @Test func galleryTintsTheHighlightedCells() {
    // One 4×4 gray image, a 2×2 map: cell 0 is the top-left 2×2 block.
    let gallery = Gallery(images: [UInt8](repeating: 100, count: 16), channels: 1, height: 4, width: 4)
    let strip = gallery.prototypeStrip(examples: [(probe: 0, cells: [0])], mapHeight: 2, mapWidth: 2)
    let scale = 3
    func pixel(_ x: Int, _ y: Int) -> [UInt8] {
      Array(strip.pixels[((y * strip.width + x) * 3)..<((y * strip.width + x) * 3 + 3)])
    }
    #expect(pixel(0, 0)[0] > pixel(0, 0)[1])  // tinted red inside cell 0
    #expect(pixel(3 * scale, 3 * scale) == [100, 100, 100])  // untouched outside
  }
}
