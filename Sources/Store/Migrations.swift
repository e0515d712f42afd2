import Foundation

/// One named migration: SQL statements, then (optionally) a rewrite of stored data that SQL
/// alone cannot express (`JSONKeyMigration`).
public struct Migration: Sendable {
  /// Recorded in `schema_migrations`; never reused.
  public var name: String
  /// Statements, run in order.
  public var sql: [String]
  /// Runs after `sql`, in the same transaction.
  public var rewrite: (@Sendable (SQLiteDatabase) throws -> Void)?

  /// A migration of `sql` statements and an optional data `rewrite`.
  public init(_ name: String, _ sql: [String], rewrite: (@Sendable (SQLiteDatabase) throws -> Void)? = nil) {
    self.name = name
    self.sql = sql
    self.rewrite = rewrite
  }
}

/// Named, ordered schema migrations, recorded in `schema_migrations`; each runs once, in its
/// own transaction.
public enum Migrations {
  /// The migrations, in order. Never edit a shipped one; append a new one.
  public static let all: [Migration] = [
    Migration(
      "001-runs-checkpoints-jobs",
      [
        """
        CREATE TABLE runs (
          name TEXT PRIMARY KEY, architecture TEXT NOT NULL, classes TEXT NOT NULL,
          probe_sha256 TEXT NOT NULL, probe_count INTEGER NOT NULL, created_at REAL NOT NULL)
        """,
        """
        CREATE TABLE checkpoints (
          run TEXT NOT NULL REFERENCES runs(name), step INTEGER NOT NULL, epoch INTEGER NOT NULL,
          sha256 TEXT NOT NULL, size INTEGER NOT NULL, metrics TEXT NOT NULL,
          received_at REAL NOT NULL, parameter_count INTEGER, PRIMARY KEY (run, step))
        """,
        """
        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, run TEXT NOT NULL, step INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),
          attempts INTEGER NOT NULL DEFAULT 0, error TEXT, updated_at REAL NOT NULL)
        """,
        "CREATE INDEX jobs_state ON jobs(state, id)",
        """
        CREATE TABLE directives (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL REFERENCES runs(name), kind TEXT NOT NULL,
          payload TEXT NOT NULL, created_at REAL NOT NULL, delivered_at REAL, acknowledged_at REAL)
        """,
      ]
    ),
    Migration("002-jobs-by-checkpoint", ["CREATE INDEX jobs_checkpoint ON jobs(run, step, id)"]),
    Migration(
      "003-analysis",
      [
        """
        CREATE TABLE observations (
          run TEXT NOT NULL, step INTEGER NOT NULL, sha256 TEXT NOT NULL, created_at REAL NOT NULL,
          PRIMARY KEY (run, step))
        """,
        """
        CREATE TABLE vocabularies (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, step INTEGER NOT NULL, document TEXT NOT NULL,
          created_at REAL NOT NULL)
        """,
        """
        CREATE TABLE analyses (
          run TEXT NOT NULL, step INTEGER NOT NULL, report TEXT NOT NULL, seconds REAL NOT NULL,
          timings TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (run, step))
        """,
      ]
    ),
    Migration(
      "004-job-backoff",
      [
        // not_before: a job that hit a transient fault (disk full) waits until then.
        // crashes: how often the analysis process died on this job (signal, out of memory).
        "ALTER TABLE jobs ADD COLUMN not_before REAL",
        "ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0",
      ]
    ),
    Migration(
      "005-finetune-directives",
      [
        "ALTER TABLE runs ADD COLUMN finetune_policy TEXT NOT NULL DEFAULT 'manual'",
        // Lifecycle: pending, delivered, received, running, done, failed (DESIGN §7).
        "ALTER TABLE directives ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'",
        "ALTER TABLE directives ADD COLUMN key TEXT",
        "ALTER TABLE directives ADD COLUMN pair TEXT",
        "ALTER TABLE directives ADD COLUMN prototypes TEXT",
        "ALTER TABLE directives ADD COLUMN source TEXT",
        "ALTER TABLE directives ADD COLUMN step INTEGER",
        "ALTER TABLE directives ADD COLUMN reason TEXT",
        "ALTER TABLE directives ADD COLUMN metrics TEXT",
        "ALTER TABLE directives ADD COLUMN updated_at REAL",
        "CREATE INDEX directives_run_state ON directives(run, state, id)",
      ]
    ),
    Migration(
      "006-incremental-analyses",
      [
        // 1: the report merges a recomputed window onto earlier ones (RunAnalysis.merge);
        // a `refresh` job replaces it with a full analysis when the daemon is idle.
        "ALTER TABLE analyses ADD COLUMN incremental INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX jobs_run_kind_state ON jobs(run, kind, state, id)",
      ]
    ),
    Migration(
      "007-findings-interventions",
      [
        // Mask/paste interventions (DESIGN §6b): origin 'auto' (the daemon's, at the latest
        // checkpoint, each class's top prototypes) or 'request' (`i2x intervene`); state
        // queued, done or failed; the outcome as JSON (`Intervention`).
        """
        CREATE TABLE interventions (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, step INTEGER NOT NULL, prototype INTEGER NOT NULL,
          label INTEGER, origin TEXT NOT NULL, state TEXT NOT NULL, document TEXT, error TEXT,
          created_at REAL NOT NULL, updated_at REAL NOT NULL)
        """,
        "CREATE INDEX interventions_run_step ON interventions(run, step, id)",
      ]
    ),
    Migration(
      "008-explanations",
      [
        // What the explainer checks a generator against (DESIGN §8); NULL when the trainer did
        // not say (older trainers, PyTorch attach without a dataset name).
        "ALTER TABLE runs ADD COLUMN dataset TEXT",
        "ALTER TABLE runs ADD COLUMN generator_split_sha256 TEXT",
        // NULL: the daemon's --explain default. An explanation is a class explanation, a concept
        // search, or a counterfactual of one probe image (`probe`) towards `target`.
        "ALTER TABLE runs ADD COLUMN explain_policy TEXT",
        """
        CREATE TABLE explanations (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL REFERENCES runs(name), class INTEGER NOT NULL,
          step INTEGER NOT NULL, job INTEGER, source TEXT NOT NULL,
          kind TEXT NOT NULL DEFAULT 'explain' CHECK (kind IN ('explain','concepts','counterfactual')),
          target INTEGER, probe INTEGER, prototype INTEGER, cells TEXT,
          state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),
          document TEXT, images TEXT, warnings TEXT, error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)
        """,
        "CREATE INDEX explanations_run_class ON explanations(run, class, step)",
        "CREATE INDEX explanations_job ON explanations(job)",
      ]
    ),
    Migration("009-events", EventLog.migration),
    Migration(
      "010-explanation-kind-prototypes",
      [
        // A fourth kind of explanation: the data-free prototypes of a checkpoint (ProDG's
        // question, DESIGN §8), one per run and checkpoint for every class (class −1). SQLite
        // cannot change a CHECK constraint, so the table is rebuilt with the same columns and
        // rows (ids kept), its indexes and the event triggers that dropping it removed.
        """
        CREATE TABLE explanations_new (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL REFERENCES runs(name), class INTEGER NOT NULL,
          step INTEGER NOT NULL, job INTEGER, source TEXT NOT NULL,
          kind TEXT NOT NULL DEFAULT 'explain'
            CHECK (kind IN ('explain','concepts','counterfactual','prototypes')),
          target INTEGER, probe INTEGER, prototype INTEGER, cells TEXT,
          state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),
          document TEXT, images TEXT, warnings TEXT, error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)
        """,
        """
        INSERT INTO explanations_new (
          id, run, class, step, job, source, kind, target, probe, prototype, cells, state, document, images, warnings,
          error, created_at, updated_at)
        SELECT id, run, class, step, job, source, kind, target, probe, prototype, cells, state, document, images,
          warnings, error, created_at, updated_at
        FROM explanations
        """,
        "DROP TABLE explanations",
        "ALTER TABLE explanations_new RENAME TO explanations",
        "CREATE INDEX explanations_run_class ON explanations(run, class, step)",
        "CREATE INDEX explanations_job ON explanations(job)",
      ] + EventLog.explanationTriggers
    ),
    Migration(
      "011-faithfulness-cadence",
      [
        // 0: the report's latest checkpoint skipped faithfulness (measured at every N-th
        // checkpoint); the idle refresh measures it once the run is quiet.
        "ALTER TABLE analyses ADD COLUMN faithfulness_measured INTEGER NOT NULL DEFAULT 1"
      ]
    ),
    // JSON interface schema_version 2: stored analysis reports get snake_case field keys.
    Migration("012-snake-case-reports", [], rewrite: JSONKeyMigration.analysisReports),
  ]

  /// Applies every migration not yet recorded.
  public static func apply(to database: SQLiteDatabase) throws {
    try database.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    let applied = Set(try database.query("SELECT name FROM schema_migrations").compactMap { $0.first?.string })
    for migration in all where !applied.contains(migration.name) {
      try database.transaction {
        for statement in migration.sql { try database.execute(statement) }
        try migration.rewrite?(database)
        try database.execute(
          "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
          [.text(migration.name), .real(Date().timeIntervalSince1970)])
      }
    }
  }
}
