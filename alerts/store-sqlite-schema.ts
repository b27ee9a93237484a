// The alert store's SQLite schema (store-sqlite.ts), as its migrations in order: the tables of alerts, their
// events and the rules' saved states, each later change a migration of its own.
// STRICT tables refuse values of the wrong type. AUTOINCREMENT: an alert id is published to InfluxDB, MQTT
// and the API, so it must never be given to another alert, even after the newest row is deleted by hand.
// `kind` has no CHECK so that a new device kind needs no migration; rows are parsed with zod on the way out.
export const ALERT_STORE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     rule TEXT NOT NULL,
     device TEXT NOT NULL,
     kind TEXT NOT NULL,
     district TEXT NOT NULL,
     owner TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
     state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
     source TEXT NOT NULL CHECK (source IN ('rule', 'flow')),
     message TEXT NOT NULL,
     value REAL,
     threshold REAL,
     level INTEGER NOT NULL CHECK (level >= 0),
     raised_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     acknowledged_at INTEGER,
     acknowledged_by TEXT,
     acknowledge_note TEXT,
     resolved_at INTEGER,
     resolved_by TEXT,
     resolve_note TEXT,
     resolution TEXT CHECK (resolution IN ('auto', 'operator')),
     CHECK ((state = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL))
   ) STRICT;
   CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, device) WHERE state != 'resolved';
   CREATE INDEX alerts_by_raised ON alerts (raised_at);
   CREATE TABLE alert_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id INTEGER NOT NULL REFERENCES alerts (id),
     type TEXT NOT NULL CHECK (type IN ('raised', 'updated', 'escalated', 'acknowledged', 'resolved')),
     at INTEGER NOT NULL,
     severity TEXT NOT NULL,
     state TEXT NOT NULL,
     message TEXT NOT NULL,
     value REAL,
     threshold REAL,
     level INTEGER NOT NULL,
     actor TEXT,
     note TEXT
   ) STRICT;
   CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);
   CREATE TABLE rule_states (
     rule TEXT NOT NULL,
     device TEXT NOT NULL,
     state TEXT NOT NULL CHECK (json_valid(state)),
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (rule, device)
   ) STRICT;`,
  // 2: `referred`, an alert not acknowledged in time handed to the next step of its escalation chain.
  // SQLite cannot change a CHECK in place: the table is rebuilt, its ids (the notifier's cursor) kept.
  `CREATE TABLE alert_events_2 (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id INTEGER NOT NULL REFERENCES alerts (id),
     type TEXT NOT NULL
       CHECK (type IN ('raised', 'updated', 'escalated', 'referred', 'acknowledged', 'resolved')),
     at INTEGER NOT NULL,
     severity TEXT NOT NULL,
     state TEXT NOT NULL,
     message TEXT NOT NULL,
     value REAL,
     threshold REAL,
     level INTEGER NOT NULL,
     actor TEXT,
     note TEXT
   ) STRICT;
   INSERT INTO alert_events_2 SELECT * FROM alert_events;
   INSERT INTO sqlite_sequence (name, seq)
     SELECT 'alert_events_2', seq FROM sqlite_sequence WHERE name = 'alert_events';
   DROP TABLE alert_events;
   ALTER TABLE alert_events_2 RENAME TO alert_events;
   CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);`,
  // 3: source `command`, the alert of a command a device did not carry out (commands/). The table is
  // rebuilt with its ids and its sequence, foreign keys off meanwhile (SQLite's procedure, see migrate).
  `CREATE TABLE alerts_3 (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     rule TEXT NOT NULL,
     device TEXT NOT NULL,
     kind TEXT NOT NULL,
     district TEXT NOT NULL,
     owner TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
     state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
     source TEXT NOT NULL CHECK (source IN ('rule', 'flow', 'command')),
     message TEXT NOT NULL,
     value REAL,
     threshold REAL,
     level INTEGER NOT NULL CHECK (level >= 0),
     raised_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     acknowledged_at INTEGER,
     acknowledged_by TEXT,
     acknowledge_note TEXT,
     resolved_at INTEGER,
     resolved_by TEXT,
     resolve_note TEXT,
     resolution TEXT CHECK (resolution IN ('auto', 'operator')),
     CHECK ((state = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL))
   ) STRICT;
   INSERT INTO alerts_3 SELECT * FROM alerts;
   INSERT INTO sqlite_sequence (name, seq) SELECT 'alerts_3', seq FROM sqlite_sequence WHERE name = 'alerts';
   DROP TABLE alerts;
   ALTER TABLE alerts_3 RENAME TO alerts;
   CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, device) WHERE state != 'resolved';
   CREATE INDEX alerts_by_raised ON alerts (raised_at);`,
];
