print("i2x-train: under construction")
