import Checkpoints
import Testing

/// FIPS 180-4 / NIST example vectors, plus chunked updates across block boundaries.
@Suite struct SHA256Tests {
  @Test func knownVectors() {
    #expect(
      SHA256.hex(Array("".utf8))
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      SHA256.hex(Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func chunkedUpdatesEqualOneShot() {
    let bytes = (0..<1000).map { UInt8($0 % 251) }
    for chunk in [1, 7, 63, 64, 65, 200] {
      var hash = SHA256()
      var start = 0
      while start < bytes.count {
        hash.update(bytes[start..<min(bytes.count, start + chunk)])
        start += chunk
      }
      #expect(
        hash.finalize()
          == {
            var h = SHA256()
            h.update(bytes)
            return h.finalize()
          }(), "chunk \(chunk)")
    }
  }
}
