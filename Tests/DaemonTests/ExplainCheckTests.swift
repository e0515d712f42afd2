import Explainer
import Models
import Testing

@testable import DaemonCore

/// The generator checks of DESIGN §8: a generator of another image shape or dataset is
/// refused with what to do; another split (or an unknown one) is said as a warning.
@Suite struct ExplainCheckTests {
  let split = GeneratorDescription.Split(name: "generator", count: 3, sha256: "abc123", seed: 1)

  func generator(image: [Int] = [1, 28, 28], dataset: String = "fashion-mnist") -> GeneratorDescription {
    GeneratorDescription.standard(dataset: dataset, image: image, seed: 1, split: split, width: 4, hidden: 8)
  }

  let architecture = Architecture.reference("smallcnn")!

  @Test func theSameDatasetAndSplitPassWithoutWarnings() throws {
    #expect(
      try ExplainJob.check(generator(), architecture: architecture, dataset: "fashion-mnist", split: "abc123").isEmpty)
  }

  @Test func anotherShapeOrDatasetIsRefused() {
    #expect(throws: DaemonError.self) {
      try ExplainJob.check(generator(image: [3, 32, 32]), architecture: architecture, dataset: nil, split: nil)
    }
    do {
      _ = try ExplainJob.check(
        generator(dataset: "mnist"), architecture: architecture, dataset: "fashion-mnist", split: nil)
      Issue.record("a generator of another dataset was accepted")
    } catch let error as DaemonError {
      #expect(
        error.message.contains("'mnist'") && error.message.contains("i2x-train generator --dataset fashion-mnist"))
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test func anotherOrAnUnknownSplitIsAWarning() throws {
    let other = try ExplainJob.check(generator(), architecture: architecture, dataset: "fashion-mnist", split: "fff")
    #expect(other.count == 1 && other[0].contains("not data-free"))
    let unknown = try ExplainJob.check(generator(), architecture: architecture, dataset: nil, split: nil)
    #expect(unknown.count == 2)
  }
}
