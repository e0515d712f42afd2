// i2xd: thin wiring; the daemon lives in the DaemonCore library.
import CLI
import DaemonCore
import Foundation

TerminationSignals.unblock()
exit(DaemonCommand.main(Array(CommandLine.arguments.dropFirst())))
