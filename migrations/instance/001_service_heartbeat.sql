-- One row per running service of this instance: which process, since when, last seen alive.
CREATE TABLE service_heartbeats (
  service    text PRIMARY KEY,
  pid        int,
  started_at timestamptz,
  last_seen  timestamptz
);
