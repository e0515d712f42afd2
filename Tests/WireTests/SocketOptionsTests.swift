import Testing
import Wire

/// Clients take their CURVE keys from the environment: all three or none, never half.
@Suite struct SocketOptionsTests {
  // Z85 keys from 'i2xd keygen' (40 characters each).
  static let server = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
  static let publicKey = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
  static let secretKey = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

  static var complete: [String: String] {
    ["I2X_CURVE_SERVER_KEY": server, "I2X_CURVE_PUBLIC_KEY": publicKey, "I2X_CURVE_SECRET_KEY": secretKey]
  }

  @Test func noVariablesMeansPlaintext() throws {
    #expect(try SocketOptions.client(environment: ["HOME": "/root"]).curveClientKeys == nil)
  }

  @Test func allThreeVariablesMeanCurve() throws {
    let keys = try #require(try SocketOptions.client(environment: Self.complete).curveClientKeys)
    #expect(keys.serverKey == Self.server)
    #expect(keys.publicKey == Self.publicKey)
    #expect(keys.secretKey == Self.secretKey)
  }

  @Test(arguments: SocketOptions.curveEnvironmentVariables)
  func aMissingVariableIsNamed(_ missing: String) {
    var environment = Self.complete
    environment[missing] = nil
    #expect {
      try SocketOptions.client(environment: environment)
    } throws: { error in
      (error as? CurveEnvironmentError)?.message.hasPrefix("\(missing) is not set") == true
    }
  }

  @Test func twoMissingVariablesAreNamed() {
    #expect {
      try SocketOptions.client(environment: ["I2X_CURVE_SERVER_KEY": Self.server])
    } throws: { error in
      (error as? CurveEnvironmentError)?.message
        == "I2X_CURVE_PUBLIC_KEY and I2X_CURVE_SECRET_KEY are not set, but I2X_CURVE_SERVER_KEY is: CURVE needs all three"
    }
  }

  @Test(arguments: [
    ("I2X_CURVE_PUBLIC_KEY", "short", "got 5 characters"), ("I2X_CURVE_SECRET_KEY", "", "got 0 characters"),
    ("I2X_CURVE_SERVER_KEY", String(repeating: "~", count: 40), "outside the Z85 alphabet"),
  ])
  func aMalformedKeyIsNamed(_ name: String, _ value: String, _ found: String) {
    var environment = Self.complete
    environment[name] = value
    #expect {
      try SocketOptions.client(environment: environment)
    } throws: { error in
      let message = (error as? CurveEnvironmentError)?.message ?? ""
      return message.hasPrefix("\(name) is not a CURVE key") && message.contains(found)
    }
  }

  @Test func z85KeysAreFortyCharactersOfTheAlphabet() throws {
    let pair = try CurveKeyPair.generate()
    #expect(CurveKeyPair.isValidKey(pair.publicKey) && CurveKeyPair.isValidKey(pair.secretKey))
    #expect(!CurveKeyPair.isValidKey(String(pair.publicKey.dropLast())))
    #expect(!CurveKeyPair.isValidKey(String(pair.publicKey.dropLast()) + " "))
  }
}
