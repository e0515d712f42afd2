// i2x-train: thin wiring; the commands live in the Training library.
import Training

TrainerCommands.tool().main()
