extension SafetensorsFile {
  /// Caps `init(bytes:limits:)` enforces on a header before it builds anything per tensor,
  /// so a hostile file cannot make the reader spend seconds and hundreds of MB on a header.
  ///
  /// A real checkpoint has at most a few thousand tensors and a header of a few hundred kB
  /// (about 100 bytes per tensor); the defaults leave wide room for both.
  public struct Limits: Sendable, Equatable {
    /// Largest header, in bytes, checked from the 8-byte length before the header is read
    /// (default 16 MiB = 16,777,216).
    public var maximumHeaderBytes: Int
    /// Most tensor entries in the header, `__metadata__` not counted; counted while the header
    /// is parsed (default 65,536).
    public var maximumTensors: Int

    /// Creates limits; every argument defaults to the documented default.
    public init(maximumHeaderBytes: Int = 16 << 20, maximumTensors: Int = 65_536) {
      self.maximumHeaderBytes = maximumHeaderBytes
      self.maximumTensors = maximumTensors
    }

    /// The documented defaults.
    public static let `default` = Limits()
  }
}
