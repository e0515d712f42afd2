/// Exact conversions from 16-bit floating-point bit patterns to `Float`.
///
/// Every binary16 and bfloat16 value is representable in binary32, so both conversions are
/// exact, including subnormals, signed zeros, infinities and NaN payloads.
enum HalfPrecision {
  /// IEEE 754 binary16 (1 sign, 5 exponent bits with bias 15, 10 mantissa bits) to binary32
  /// (8 exponent bits with bias 127, 23 mantissa bits).
  ///
  /// Normal: (−1)^s · 2^(e−15) · (1 + m/2^10) → exponent e + 112, mantissa m << 13.
  /// Subnormal (e = 0): (−1)^s · m · 2^−24, exact in binary32 as a product of small terms.
  /// Infinity/NaN (e = 31): exponent 255, mantissa m << 13 (the quiet bit stays the top bit).
  static func float(binary16 bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x03FF)
    switch exponent {
    case 0:
      let magnitude = Float(mantissa) * 0x1p-24
      return Float(bitPattern: sign | magnitude.bitPattern)
    case 0x1F:
      return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    default:
      return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
  }

  /// bfloat16 to binary32: the 16 bits are the top half of the binary32 pattern.
  static func float(bfloat16 bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }
}
