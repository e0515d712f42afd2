// i2xd: thin wiring; the daemon lives in the DaemonCore library.
import DaemonCore
import Foundation

exit(DaemonCommand.main(Array(CommandLine.arguments.dropFirst())))
