import Foundation

/// One named migration: SQL statements, then (optionally) a rewrite of stored data that SQL
/// alone cannot express (`JSONKeyMigration`). The same names on both backends: PostgreSQL runs
/// `postgresql` where SQLite's statements cannot be translated (`postgreSQL(_:)`), else the
/// translation.
public struct Migration: Sendable {
  /// Recorded in `schema_migrations`; never reused.
  public var name: String
  /// Statements, run in order (SQLite).
  public var sql: [String]
  /// PostgreSQL's own statements, when they differ beyond the types.
  public var postgresql: [String]?
  /// Runs after `sql`, in the same transaction.
  public var rewrite: (@Sendable (SQLDatabase) throws -> Void)?

  /// A migration of `sql` statements and an optional data `rewrite`.
  public init(
    _ name: String, _ sql: [String], postgresql: [String]? = nil,
    rewrite: (@Sendable (SQLDatabase) throws -> Void)? = nil
  ) {
    self.name = name
    self.sql = sql
    self.postgresql = postgresql
    self.rewrite = rewrite
  }

  /// The statements for `dialect`.
  public func statements(_ dialect: SQLDialect) -> [String] {
    switch dialect {
    case .sqlite: return sql
    case .postgresql: return postgresql ?? sql.map(Self.postgreSQL)
    }
  }

  /// `statement` translated when `dialect` is PostgreSQL.
  static func postgreSQLIf(_ dialect: SQLDialect, _ statement: String) -> String {
    dialect == .postgresql ? postgreSQL(statement) : statement
  }

  /// SQLite DDL in PostgreSQL's types: an autoincrement key becomes `BIGSERIAL`, `INTEGER`
  /// `BIGINT` (steps and ids are 64-bit in SQLite), `REAL` `DOUBLE PRECISION` and `BLOB`
  /// `BYTEA`.
  public static func postgreSQL(_ statement: String) -> String {
    statement
      .replacingOccurrences(of: "INTEGER PRIMARY KEY AUTOINCREMENT", with: "BIGSERIAL PRIMARY KEY")
      .replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
      .replacingOccurrences(of: #"\bREAL\b"#, with: "DOUBLE PRECISION", options: .regularExpression)
      .replacingOccurrences(of: #"\bBLOB\b"#, with: "BYTEA", options: .regularExpression)
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
    Migration("009-events", EventLog.migration, postgresql: EventLog.postgreSQLMigration),
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
      ] + EventLog.explanationTriggers,
      // PostgreSQL changes the constraint in place (rows, ids and triggers stay).
      postgresql: [
        "ALTER TABLE explanations DROP CONSTRAINT explanations_kind_check",
        """
        ALTER TABLE explanations ADD CONSTRAINT explanations_kind_check
          CHECK (kind IN ('explain','concepts','counterfactual','prototypes'))
        """,
      ]
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
    Migration(
      "013-job-leases",
      [
        // Who holds a running job (`host:pid`), until when (a PostgreSQL store's workers renew
        // it; NULL: no lease, the embedded store's one daemon), and the fencing token of the
        // claim: results are recorded only while the token is still the job's.
        "ALTER TABLE jobs ADD COLUMN worker TEXT",
        "ALTER TABLE jobs ADD COLUMN lease_until REAL",
        "ALTER TABLE jobs ADD COLUMN fence INTEGER NOT NULL DEFAULT 0",
      ],
      postgresql: [
        "ALTER TABLE jobs ADD COLUMN worker TEXT",
        "ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION",
        "ALTER TABLE jobs ADD COLUMN fence BIGINT NOT NULL DEFAULT 0",
        "CREATE SEQUENCE job_fences",
      ]
    ),
    Migration(
      "014-database-blobs",
      [
        // Blobs kept in the database (a PostgreSQL store whose daemons share no directory):
        // the chunks, then the row that names a whole blob, written last.
        "CREATE TABLE blob_chunks (sha256 TEXT NOT NULL, chunk INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (sha256, chunk))",
        "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL, chunks INTEGER NOT NULL)",
        // Settings of the store that every daemon opening it must share (`blobs`: where the
        // blobs are, `database` or `directory`).
        "CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      ]
    ),
    // Event ids in commit order on PostgreSQL, where several sessions write at once: an id is
    // drawn at insert but seen at commit, so a client following `id > cursor` could pass an
    // event whose transaction commits after a later one's. Each transaction that records an
    // event now holds a lock until it ends, from its first event on. SQLite's writers take
    // turns already.
    Migration("015-events-in-commit-order", [], postgresql: [EventLog.orderedEventFunction]),
  ]

  /// Applies every migration not yet recorded. On PostgreSQL, daemons starting together
  /// take turns (an advisory lock held by each migration's transaction).
  public static func apply(to database: SQLDatabase) throws {
    let dialect = database.dialect
    // `IF NOT EXISTS` alone does not stop two PostgreSQL sessions creating the table at once.
    try database.transaction(durable: dialect == .postgresql) {
      if dialect == .postgresql { try database.execute("SELECT pg_advisory_xact_lock(7231114)", []) }
      try database.execute(
        Migration.postgreSQLIf(
          dialect, "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"),
        [])
    }
    for migration in all {
      try database.transaction(durable: dialect == .postgresql) {
        if dialect == .postgresql { try database.execute("SELECT pg_advisory_xact_lock(7231114)", []) }
        let applied = try database.query(
          "SELECT 1 FROM schema_migrations WHERE name = ?", [.text(migration.name)])
        guard applied.isEmpty else { return }
        for statement in migration.statements(dialect) { try database.execute(statement, []) }
        try migration.rewrite?(database)
        try database.execute(
          "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
          [.text(migration.name), .real(Date().timeIntervalSince1970)])
      }
    }
  }
}
