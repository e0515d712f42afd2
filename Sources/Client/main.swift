// i2x: thin wiring; the commands live in the ClientCore library.
import CLI
import ClientCore

TerminationSignals.unblock()
ClientCommands.tool().main()
