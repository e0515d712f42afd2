import CLI
import Glibc
import Testing

/// Output that fails (full disk, closed descriptor) is dropped, never fatal.
@Suite struct FileDescriptorOutputTests {
  @Test func writesEveryByteToAPipe() throws {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    defer { close(ends[0]) }
    let text = "line one\nzweite Zeile — ünïcode\n"
    #expect(FileDescriptorOutput.write(text, to: ends[1]))
    close(ends[1])
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(ends[0], &buffer, buffer.count)
    #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == text)
  }

  @Test func aFullDeviceIsReportedNotFatal() throws {
    let full = open("/dev/full", O_WRONLY)
    try #require(full >= 0)
    defer { close(full) }
    // /dev/full fails every write with ENOSPC: the call returns instead of trapping.
    #expect(!FileDescriptorOutput.write("lost\n", to: full))
  }

  @Test func aClosedDescriptorIsReportedNotFatal() throws {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    close(ends[0])
    close(ends[1])
    #expect(!FileDescriptorOutput.write("lost\n", to: ends[1]))  // EBADF
  }

  @Test func aPipeWithoutReaderIsReportedNotFatal() throws {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    close(ends[0])
    defer { close(ends[1]) }
    let previous = signal(SIGPIPE, SIG_IGN)  // as a process with a dead reader would see: EPIPE
    defer { signal(SIGPIPE, previous) }
    #expect(!FileDescriptorOutput.write("lost\n", to: ends[1]))
  }
}
