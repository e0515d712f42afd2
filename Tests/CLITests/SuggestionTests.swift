import Testing

@testable import CLI

@Suite struct SuggestionTests {
  @Test func levenshteinDistancesByHand() {
    // kitten → sitten (substitute k) → sittin (substitute e) → sitting (insert g).
    #expect(Suggestion.distance("kitten", "sitting") == 3)
    // flaw → law (delete f) → lawn (insert n).
    #expect(Suggestion.distance("flaw", "lawn") == 2)
    #expect(Suggestion.distance("", "abc") == 3)
    #expect(Suggestion.distance("abc", "") == 3)
    #expect(Suggestion.distance("epochs", "epochs") == 0)
    #expect(Suggestion.distance("uasge", "usage") == 2)
  }

  @Test func closestWithinAThirdOfTheLengthOrTwo() {
    #expect(Suggestion.closest(to: "epoch", among: ["epochs", "out"]) == "epochs")
    #expect(Suggestion.closest(to: "xyz", among: ["epochs", "out"]) == nil)
    // 12 characters allow 4 edits: "learningrte" vs "learning-rate" is 2.
    #expect(
      Suggestion.closest(to: "learningrte", among: ["lr", "learning-rate"]) == "learning-rate")
    // Ties go to the earlier candidate.
    #expect(Suggestion.closest(to: "ab", among: ["ac", "ad"]) == "ac")
    #expect(Suggestion.closest(to: "a", among: []) == nil)
  }
}
