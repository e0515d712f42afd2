// i2x: thin wiring; the commands live in the ClientCore library.
import ClientCore

ClientCommands.tool().main()
