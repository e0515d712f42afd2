/// The run event log behind the `events` query and `i2x watch` (migration 009): one row per
/// thing a user following a run wants to hear about, written by SQLite triggers on the tables
/// that already record it, so no code path that changes them can forget an event and the event
/// commits with the change (or not at all).
///
/// Kinds and their `detail` JSON:
/// - `checkpoint`: a checkpoint was stored (`epoch`, `size`, `metrics`);
/// - `analysis`: a checkpoint's analysis ended (`state` done or failed, `error`);
/// - `flag`: an analysis flagged an uncertain prototype that the previous analysis of the run
///   did not flag for that pair (`prototype`, `pair`, `flips`, `score`);
/// - `directive`: a fine-tune directive was made or changed state (`id`, `state`, `pair`,
///   `prototypes`, `source`, `reason`);
/// - `explanation`: an explanation was queued or changed state (`id`, `class`, `state`,
///   `activation` (rate) when done, `error` when failed).
public enum EventLog {
  /// The migration's statements: the table, its index and the triggers.
  public static let migration: [String] = [
    """
    CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER,
      detail TEXT NOT NULL, at REAL NOT NULL)
    """,
    "CREATE INDEX events_run ON events(run, id)",
    """
    CREATE TRIGGER events_checkpoint AFTER INSERT ON checkpoints BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'checkpoint', NEW.step,
        json_object('epoch', NEW.epoch, 'size', NEW.size, 'metrics', CASE WHEN json_valid(NEW.metrics) THEN json(NEW.metrics) END), \(now));
    END
    """,
    """
    CREATE TRIGGER events_analysis AFTER UPDATE OF state ON jobs
    WHEN NEW.kind = 'analyze' AND NEW.state IN ('done', 'failed') AND OLD.state <> NEW.state BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'analysis', NEW.step,
        json_object('state', NEW.state, 'error', NEW.error), \(now));
      INSERT INTO events (run, kind, step, detail, at)
        SELECT NEW.run, 'flag', NEW.step, json_object(
            'prototype', json_extract(f.value, '$.prototype'), 'pair', json(json_extract(f.value, '$.pair')),
            'flips', json_extract(f.value, '$.flips'), 'score', json_extract(f.value, '$.score')), \(now)
        FROM analyses a, json_each(\(validReport("a")), '$.uncertain') f
        WHERE NEW.state = 'done' AND a.run = NEW.run AND a.step = NEW.step
          AND NOT EXISTS (
            SELECT 1 FROM analyses p, json_each(\(validReport("p")), '$.uncertain') g
            WHERE p.run = NEW.run
              AND p.step = (SELECT MAX(step) FROM analyses WHERE run = NEW.run AND step < NEW.step)
              AND json_extract(g.value, '$.prototype') = json_extract(f.value, '$.prototype')
              AND json_extract(g.value, '$.pair') = json_extract(f.value, '$.pair'));
    END
    """,
    """
    CREATE TRIGGER events_directive_made AFTER INSERT ON directives BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'directive', NEW.step,
        json_object('id', NEW.id, 'state', NEW.state, 'pair', json('[' || COALESCE(NEW.pair, '') || ']'),
          'prototypes', json('[' || COALESCE(NEW.prototypes, '') || ']'), 'source', NEW.source), \(now));
    END
    """,
    """
    CREATE TRIGGER events_directive_state AFTER UPDATE OF state ON directives
    WHEN OLD.state <> NEW.state BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'directive', NEW.step,
        json_object('id', NEW.id, 'state', NEW.state, 'pair', json('[' || COALESCE(NEW.pair, '') || ']'),
          'prototypes', json('[' || COALESCE(NEW.prototypes, '') || ']'), 'source', NEW.source, 'reason', NEW.reason), \(now));
    END
    """,
    """
    CREATE TRIGGER events_explanation_queued AFTER INSERT ON explanations BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'explanation', NEW.step,
        json_object('id', NEW.id, 'class', NEW.class, 'state', NEW.state, 'source', NEW.source), \(now));
    END
    """,
    """
    CREATE TRIGGER events_explanation_state AFTER UPDATE OF state ON explanations
    WHEN OLD.state <> NEW.state BEGIN
      INSERT INTO events (run, kind, step, detail, at) VALUES (NEW.run, 'explanation', NEW.step,
        json_object('id', NEW.id, 'class', NEW.class, 'state', NEW.state, 'error', NEW.error,
          'activation', CASE WHEN json_valid(NEW.document) THEN json_extract(NEW.document, '$.activation.rate') END),
        \(now));
    END
    """,
  ]

  /// The same table and events in PostgreSQL: trigger functions in PL/pgSQL over `jsonb`.
  /// `i2x_json` reads text as JSON, NULL when it is not (SQLite's `json_valid` guard);
  /// `i2x_now` is the server's clock in seconds since 1970.
  public static let postgreSQLMigration: [String] = [
    """
    CREATE TABLE events (
      id BIGSERIAL PRIMARY KEY, run TEXT NOT NULL, kind TEXT NOT NULL, step BIGINT,
      detail TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)
    """,
    "CREATE INDEX events_run ON events(run, id)",
    """
    CREATE FUNCTION i2x_json(value TEXT) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
      RETURN value::jsonb;
    EXCEPTION WHEN others THEN
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION i2x_now() RETURNS DOUBLE PRECISION LANGUAGE sql VOLATILE AS $$
      SELECT extract(epoch FROM clock_timestamp())::DOUBLE PRECISION
    $$
    """,
    """
    CREATE FUNCTION i2x_event(run TEXT, kind TEXT, step BIGINT, detail jsonb) RETURNS void LANGUAGE sql AS $$
      INSERT INTO events (run, kind, step, detail, at) VALUES (run, kind, step, detail::TEXT, i2x_now())
    $$
    """,
    """
    CREATE FUNCTION events_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM i2x_event(NEW.run, 'checkpoint', NEW.step, jsonb_build_object(
        'epoch', NEW.epoch, 'size', NEW.size, 'metrics', i2x_json(NEW.metrics)));
      RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER events_checkpoint AFTER INSERT ON checkpoints FOR EACH ROW EXECUTE FUNCTION events_checkpoint()",
    """
    CREATE FUNCTION events_analysis() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM i2x_event(NEW.run, 'analysis', NEW.step, jsonb_build_object('state', NEW.state, 'error', NEW.error));
      IF NEW.state = 'done' THEN
        PERFORM i2x_event(NEW.run, 'flag', NEW.step, jsonb_build_object(
            'prototype', f.value -> 'prototype', 'pair', f.value -> 'pair',
            'flips', f.value -> 'flips', 'score', f.value -> 'score'))
        FROM analyses a, jsonb_array_elements(
          CASE WHEN jsonb_typeof(i2x_json(a.report) -> 'uncertain') = 'array'
               THEN i2x_json(a.report) -> 'uncertain' ELSE '[]'::jsonb END) f
        WHERE a.run = NEW.run AND a.step = NEW.step
          AND NOT EXISTS (
            SELECT 1 FROM analyses p, jsonb_array_elements(
              CASE WHEN jsonb_typeof(i2x_json(p.report) -> 'uncertain') = 'array'
                   THEN i2x_json(p.report) -> 'uncertain' ELSE '[]'::jsonb END) g
            WHERE p.run = NEW.run
              AND p.step = (SELECT MAX(step) FROM analyses WHERE run = NEW.run AND step < NEW.step)
              AND g.value -> 'prototype' = f.value -> 'prototype' AND g.value -> 'pair' = f.value -> 'pair');
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER events_analysis AFTER UPDATE OF state ON jobs FOR EACH ROW
    WHEN (NEW.kind = 'analyze' AND NEW.state IN ('done', 'failed') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION events_analysis()
    """,
    """
    CREATE FUNCTION events_directive() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      detail jsonb := jsonb_build_object('id', NEW.id, 'state', NEW.state,
        'pair', i2x_json('[' || COALESCE(NEW.pair, '') || ']'),
        'prototypes', i2x_json('[' || COALESCE(NEW.prototypes, '') || ']'), 'source', NEW.source);
    BEGIN
      IF TG_OP = 'UPDATE' THEN detail := detail || jsonb_build_object('reason', NEW.reason); END IF;
      PERFORM i2x_event(NEW.run, 'directive', NEW.step, detail);
      RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER events_directive_made AFTER INSERT ON directives FOR EACH ROW EXECUTE FUNCTION events_directive()",
    """
    CREATE TRIGGER events_directive_state AFTER UPDATE OF state ON directives FOR EACH ROW
    WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION events_directive()
    """,
    """
    CREATE FUNCTION events_explanation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM i2x_event(NEW.run, 'explanation', NEW.step, jsonb_build_object(
          'id', NEW.id, 'class', NEW.class, 'state', NEW.state, 'source', NEW.source));
      ELSE
        PERFORM i2x_event(NEW.run, 'explanation', NEW.step, jsonb_build_object(
          'id', NEW.id, 'class', NEW.class, 'state', NEW.state, 'error', NEW.error,
          'activation', i2x_json(NEW.document) -> 'activation' -> 'rate'));
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER events_explanation_queued AFTER INSERT ON explanations FOR EACH ROW
    EXECUTE FUNCTION events_explanation()
    """,
    """
    CREATE TRIGGER events_explanation_state AFTER UPDATE OF state ON explanations FOR EACH ROW
    WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION events_explanation()
    """,
  ]

  /// `i2x_event` (PostgreSQL) taking the event log's lock first (migration 015): ids follow
  /// commit order.
  public static let orderedEventFunction = """
    CREATE OR REPLACE FUNCTION i2x_event(run TEXT, kind TEXT, step BIGINT, detail jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(7231117);
      INSERT INTO events (run, kind, step, detail, at)
      VALUES (i2x_event.run, i2x_event.kind, i2x_event.step, i2x_event.detail::TEXT, i2x_now());
    END $$
    """

  /// The triggers on `explanations` (statements of `migration`), which migration 010 recreates
  /// after it rebuilds that table (dropping a table drops its triggers).
  public static var explanationTriggers: [String] {
    migration.filter { $0.contains("TRIGGER events_explanation_") }
  }

  /// A table's report column, or an empty object when it is not valid JSON (so a damaged row
  /// never makes the trigger, and with it the job's update, fail).
  static func validReport(_ table: String) -> String {
    "CASE WHEN json_valid(\(table).report) THEN \(table).report ELSE '{}' END"
  }

  /// Seconds since 1970 in SQL (the clock the other tables use).
  static let now = "(julianday('now') - 2440587.5) * 86400.0"
}
