// i2x-train: thin wiring; the commands live in the Training library.
import CLI
import Training

TerminationSignals.unblock()
TrainerCommands.tool().main()
