import CLI

/// Connection options as every client command (i2x, i2x-train) reads them.
extension ParsedOptions {
  /// The endpoint option `name` (given or default), checked for connecting: one endpoint, or
  /// a comma-separated list of daemons sharing one store (`RequestClient` fails over between
  /// them).
  /// - Throws: `UsageError` when the option is absent, or naming the option and what is wrong
  ///   with an endpoint, so a typo exits 64 before any socket is made instead of looking like
  ///   an unreachable daemon.
  public func connectEndpoint(_ name: String) throws(UsageError) -> String {
    let text = try requiredString(name)
    var checked: [String] = []
    for endpoint in text.split(separator: ",", omittingEmptySubsequences: false) {
      do { checked.append(try Endpoint.validate(String(endpoint), for: .connect)) } catch {
        throw UsageError("--\(name): \(error)", hint: error.hint)
      }
    }
    return checked.joined(separator: ",")
  }

  /// Socket options for a client socket: CURVE with the keys from `I2X_CURVE_*` when set.
  /// - Throws: `UsageError` naming the missing or malformed `I2X_CURVE_*` variable.
  public func clientSocketOptions() throws(UsageError) -> SocketOptions {
    do { return try SocketOptions.client() } catch { throw UsageError(error.message, hint: error.hint) }
  }
}
