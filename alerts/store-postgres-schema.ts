// The alert store's PostgreSQL schema (store-postgres.ts): the same tables as in SQLite
// (store-sqlite-schema.ts), each alert and event marked with the node that made it, the rules' saved states
// with their partition, and the partitions' leases (partitions.ts).
import { RULE_LEASE_TABLES } from './partitions.ts';

export const ALERT_STORE_PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE alerts (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     rule text NOT NULL,
     device text NOT NULL,
     kind text NOT NULL,
     district text NOT NULL,
     owner text NOT NULL,
     title text NOT NULL,
     severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
     state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
     source text NOT NULL CHECK (source IN ('rule', 'flow', 'command')),
     message text NOT NULL,
     value double precision,
     threshold double precision,
     level integer NOT NULL CHECK (level >= 0),
     raised_at bigint NOT NULL,
     updated_at bigint NOT NULL,
     acknowledged_at bigint,
     acknowledged_by text,
     acknowledge_note text,
     resolved_at bigint,
     resolved_by text,
     resolve_note text,
     resolution text CHECK (resolution IN ('auto', 'operator')),
     origin text NOT NULL,
     CHECK ((state = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL))
   );
   CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, device) WHERE state <> 'resolved';
   CREATE INDEX alerts_by_raised ON alerts (raised_at);
   CREATE TABLE alert_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     alert_id bigint NOT NULL REFERENCES alerts (id),
     type text NOT NULL
       CHECK (type IN ('raised', 'updated', 'escalated', 'referred', 'acknowledged', 'resolved')),
     at bigint NOT NULL,
     severity text NOT NULL,
     state text NOT NULL,
     message text NOT NULL,
     value double precision,
     threshold double precision,
     level integer NOT NULL,
     actor text,
     note text,
     origin text NOT NULL,
     raised_by text NOT NULL
   );
   CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);
   CREATE INDEX alert_events_by_raiser ON alert_events (raised_by, id);
   CREATE TABLE rule_states (
     rule text NOT NULL,
     device text NOT NULL,
     part integer NOT NULL,
     state json NOT NULL,
     updated_at bigint NOT NULL,
     PRIMARY KEY (rule, device)
   );
   CREATE INDEX rule_states_by_part ON rule_states (part);
   ${RULE_LEASE_TABLES}`,
  // 2: the notifications are the cluster's, made by one node for all (notify/lease.ts): no node reads
  // the events of the alerts it raised on their own any more. The column stays, no longer required, for
  // the nodes of an older build still running during a rolling upgrade; a later schema drops it.
  `DROP INDEX alert_events_by_raiser;
   ALTER TABLE alert_events ALTER COLUMN raised_by DROP NOT NULL;`,
];
