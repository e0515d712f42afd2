import Testing

@testable import ClientCore

/// How `i2x prototypes RUN --data-free` and the class text render a stored data-free
/// prototypes row: every number from the row, its controls next to it.
@Suite struct DataFreePrototypesTextTests {
  let row: [String: Any] = [
    "id": 7, "kind": "prototypes", "class": -1, "state": "done", "warnings": ["the run does not record its dataset"],
    "explanation": [
      "schema": "i2x.data-free-prototypes/1", "step": 400, "vocabulary_step": 450, "samples_per_class": 50,
      "probes": 1000, "class_names": ["T-shirt", "Trouser"], "prototype_ids": [4, 9, 12],
      "synthetic_profiles": [[0.1, 0.7, 0.0], [0.5, 0.0, 0.3]], "profile_cosine": [0.912, 0.874],
      "profile_cosine_other_classes": [0.301, 0.296],
      "own_profile_best": ["hits": 2, "trials": 2, "rate": 1.0, "low": 0.342, "high": 1.0] as [String: Any],
      "accuracy_synthetic_vocabulary": ["hits": 751, "trials": 1000, "rate": 0.751, "low": 0.723, "high": 0.777]
        as [String: Any],
      "accuracy_data_vocabulary": ["hits": 730, "trials": 1000, "rate": 0.73, "low": 0.701, "high": 0.757]
        as [String: Any],
      "chance": 0.5, "data_free": "The prototypes come from guided samples.",
    ] as [String: Any],
  ]

  @Test func theResultListsEachClassWithItsControlAndBothAccuracies() {
    let text = ClientCommands.dataFreePrototypesText(row)
    #expect(text.contains("data-free prototypes at step 400 (vocabulary of step 450, 50 guided samples per class"))
    #expect(text.contains("  T-shirt         0.912           0.301"))
    #expect(text.contains("  Trouser         0.874           0.296"))
    #expect(text.contains("own class's profile the closest for 2 of 2 classes 100% [34, 100]"))
    #expect(
      text.contains(
        "synthetic vocabulary 75% [72, 78], the run's vocabulary 73% [70, 76] (chance 50%)"))
    #expect(text.contains("warning: the run does not record its dataset"))
    var failed = row
    failed["state"] = "failed"
    failed["error"] = "run 'r' has no analysed vocabulary yet"
    #expect(ClientCommands.dataFreePrototypesText(failed).contains("failed run 'r' has no analysed vocabulary yet"))
  }

  @Test func theClassSentenceCitesItsTopPrototypesAndTheControl() {
    let sentence = ClientCommands.dataFreePrototypesSentence(row, classIndex: 1, name: "Trouser")
    #expect(
      sentence
        == "Data-free, its guided samples attend most to prototypes 4 (mean intensity 0.50), 12 (mean intensity 0.30); their profile has cosine 0.87 with its probe images' at step 400 (0.30 with the other classes', the control)."
    )
    #expect(ClientCommands.dataFreePrototypesSentence(row, classIndex: 5, name: "Bag") == nil, "no such class")
  }

  @Test func helpDescribesTheDataFreeMode() {
    let help = ClientCommands.prototypesSpec.helpText
    #expect(help.contains("--data-free"))
    #expect(help.contains("nearest-prototype accuracy"))
  }
}
