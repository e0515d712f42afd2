import Checkpoints
import Foundation
import Prototypes

/// Everything the HTML report shows, gathered from the daemon's answers (`ClientCommands+Report`)
/// or built directly by tests. Parts that could not be had carry the reason instead, so the
/// report states an absence rather than faking a section.
public struct ReportInputs {
  /// The run's name and the step the report stands at (nil: latest).
  public var run: String
  public var requestedStep: Int?
  /// When the report was made, and the daemon's version.
  public var generatedAt = Date()
  public var daemonVersion: String?
  /// The `runs` row of this run (name, architecture, classes, probe_count, checkpoints).
  public var runRow: [String: Any] = [:]
  /// The `checkpoints` rows (step, epoch, metrics, job, …), up to the requested step.
  public var checkpoints: [[String: Any]] = []
  /// The analysis (typed) and the raw reply (extra keys such as prototype traits), or why not.
  public var analysis: Result<Analysis, Absence> = .failure(Absence("not asked for"))
  /// Attention profiles at sampled checkpoints (for the intra-class heat maps), oldest first.
  public var profiles: [ProfileSample] = []
  /// The step of the one vocabulary all `profiles` are under (the daemon's `profiles` query, I2X's
  /// retrospective view), or nil when each sample is under its own checkpoint's vocabulary.
  public var profilesVocabularyStep: Int?
  /// Probe images and labels, and the analysed checkpoint's normalised GradCAM maps, or why not.
  public var probe: Result<ProbeData, Absence> = .failure(Absence("not asked for"))
  /// The `directives` reply (policy, directives with outcomes), or why not.
  public var directives: Result<[String: Any], Absence> = .failure(Absence("not asked for"))
  /// The `explanations` reply, and each done explanation's PNGs by id and image name.
  public var explanations: Result<[String: Any], Absence> = .failure(Absence("not asked for"))
  /// PNG bytes of done explanations, by explanation id and image name.
  public var explanationImages: [Int: [String: [UInt8]]] = [:]
  /// The `findings` reply, or why there is none (e.g. a daemon without findings).
  public var findings: Result<[String: Any], Absence> = .failure(Absence("not asked for"))

  /// Creates empty inputs for `run`.
  public init(run: String, requestedStep: Int? = nil) {
    self.run = run
    self.requestedStep = requestedStep
  }

  /// Why a part is missing, in words shown in the report.
  public struct Absence: Error, Equatable {
    /// The reason, in words.
    public var reason: String
    /// Creates an absence.
    public init(_ reason: String) { self.reason = reason }
  }

  /// The run's analysis: the typed report and the raw reply.
  public struct Analysis {
    /// The typed report, and the reply it came from.
    public var report: AnalysisReport
    public var raw: [String: Any]
    /// The analysed step and whether the report is incremental.
    public var step: Int

    /// Decodes an `analysis` query reply (the stored report's keys plus the query's own).
    public init(reply: [String: Any]) throws {
      // The daemon serves the report's fields beside its own; the reply's schema_version is the report's.
      var document = reply
      document["schema_version"] = reply["schema_version"] ?? AnalysisReport.currentSchemaVersion
      let data = try JSONSerialization.data(withJSONObject: document)
      report = try JSONDecoder().decode(AnalysisReport.self, from: data)
      raw = reply
      step = reply["step"] as? Int ?? report.steps.last ?? 0
    }
  }

  /// Class attention profiles π̄_c at one checkpoint, under the vocabulary of that time.
  public struct ProfileSample {
    /// The checkpoint step.
    public var step: Int
    /// Prototype ids, in the order of each profile.
    public var prototypeIDs: [Int]
    /// profiles[c][k]: mean intensity of prototype `prototypeIDs[k]` over class c's probes.
    public var profiles: [[Double]]

    /// Creates a sample.
    public init(step: Int, prototypeIDs: [Int], profiles: [[Double]]) {
      self.step = step
      self.prototypeIDs = prototypeIDs
      self.profiles = profiles
    }

    /// The sample of an analysis report (the profile of its latest checkpoint).
    public init(_ report: AnalysisReport) {
      self.init(
        step: report.steps.last ?? 0, prototypeIDs: report.prototypes.map(\.id),
        profiles: report.classes.sorted { $0.label < $1.label }.map(\.profile))
    }
  }

  /// Probe images (U8, n×C×H×W), their labels and the GradCAM maps of the analysed checkpoint.
  public struct ProbeData {
    /// Pixels n×C×H×W, one label per image, and C, H, W.
    public var images: [UInt8]
    public var labels: [Int]
    public var channels: Int, height: Int, width: Int
    /// Normalised GradCAM maps n×h×w of the analysed checkpoint, and h, w.
    public var maps: [Float]
    public var mapHeight: Int, mapWidth: Int

    /// Creates probe data.
    public init(
      images: [UInt8], labels: [Int], channels: Int, height: Int, width: Int, maps: [Float], mapHeight: Int,
      mapWidth: Int
    ) {
      precondition(images.count == labels.count * channels * height * width, "ProbeData: images do not match labels")
      precondition(maps.count == labels.count * mapHeight * mapWidth, "ProbeData: maps do not match labels")
      self.images = images
      self.labels = labels
      self.channels = channels
      self.height = height
      self.width = width
      self.maps = maps
      self.mapHeight = mapHeight
      self.mapWidth = mapWidth
    }

    /// Reads the `probe` reply's safetensors (images U8 [N,C,H,W], labels I64 [N]) and the
    /// `observation` reply's (normalized F32 [N,h,w]).
    public init(probe: [UInt8], observation: [UInt8]) throws {
      let file = try SafetensorsFile(bytes: probe)
      let images = try file.tensor("images")
      guard images.shape.count == 4, images.shape[0] > 0 else {
        throw Absence("the probe set has no images of shape [N,C,H,W]")
      }
      let labels = try file.tensor("labels").int64s().map { Int($0) }
      let maps = try SafetensorsFile(bytes: observation).tensor("normalized")
      guard labels.count == images.shape[0], maps.shape.count == 3, maps.shape[0] == labels.count else {
        throw Absence(
          "the probe set (\(images.shape)) and the GradCAM maps (\(maps.shape)) do not match")
      }
      self.init(
        images: try images.uint8s(), labels: labels, channels: images.shape[1], height: images.shape[2],
        width: images.shape[3], maps: try maps.floats(), mapHeight: maps.shape[1], mapWidth: maps.shape[2])
    }
  }
}
