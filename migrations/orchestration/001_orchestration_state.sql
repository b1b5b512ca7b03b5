-- Orchestration state of every DIVE instance, kept in the hub's PostgreSQL (database "orchestration").
-- former checksum (comments changed only): 19032f5b3e272fa72a74b3c35cdff5303eb1bcd46b723597be5cad82d8193c47
-- Schema of the system we replace (docs/ORCHESTRATION.md "The orchestration database"), with its defects fixed:
-- the table is "checkpoints" (not "orchestration_checkpoints"), metrics always carry an instance code,
-- and state transitions are validated by the database too (see valid_state_transitions below).

CREATE TABLE deployment_states (
    id             SERIAL PRIMARY KEY,
    instance_code  VARCHAR(3)  NOT NULL,
    state          VARCHAR(20) NOT NULL CHECK (state IN ('UNKNOWN','INITIALIZING','DEPLOYING','CONFIGURING',
                                                         'VERIFYING','COMPLETE','FAILED','ROLLING_BACK','CLEANUP')),
    previous_state VARCHAR(20),
    "timestamp"    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    reason         TEXT,
    metadata       JSONB,
    checkpoint_id  VARCHAR(255),
    created_by     VARCHAR(50) NOT NULL DEFAULT 'system',
    UNIQUE (instance_code, "timestamp")
);
CREATE INDEX deployment_states_code_time ON deployment_states (instance_code, "timestamp" DESC);

CREATE TABLE state_transitions (
    id               SERIAL PRIMARY KEY,
    instance_code    VARCHAR(3)  NOT NULL,
    from_state       VARCHAR(20),
    to_state         VARCHAR(20) NOT NULL CHECK (to_state IN ('UNKNOWN','INITIALIZING','DEPLOYING','CONFIGURING',
                                                              'VERIFYING','COMPLETE','FAILED','ROLLING_BACK','CLEANUP')),
    transition_time  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    duration_seconds INTEGER,
    initiated_by     VARCHAR(50) NOT NULL DEFAULT 'system',
    metadata         JSONB
);
CREATE INDEX state_transitions_code_time ON state_transitions (instance_code, transition_time DESC);

CREATE TABLE deployment_steps (
    id            SERIAL PRIMARY KEY,
    instance_code VARCHAR(3)   NOT NULL,
    step_name     VARCHAR(100) NOT NULL,
    status        VARCHAR(20)  NOT NULL CHECK (status IN ('PENDING','IN_PROGRESS','COMPLETED','FAILED','SKIPPED')),
    started_at    TIMESTAMPTZ  NOT NULL DEFAULT clock_timestamp(),
    completed_at  TIMESTAMPTZ,
    error_message TEXT,
    retry_count   INTEGER NOT NULL DEFAULT 0,
    metadata      JSONB,
    UNIQUE (instance_code, step_name, started_at)
);

CREATE TABLE deployment_locks (
    id            SERIAL PRIMARY KEY,
    instance_code VARCHAR(3)  NOT NULL,
    lock_id       BIGINT      NOT NULL,
    acquired_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    acquired_by   VARCHAR(50),
    released_at   TIMESTAMPTZ CHECK (released_at IS NULL OR released_at >= acquired_at),
    hostname      TEXT,
    pid           INTEGER,
    UNIQUE (instance_code, lock_id, acquired_at)
);
CREATE INDEX deployment_locks_active ON deployment_locks (instance_code) WHERE released_at IS NULL;

CREATE TABLE circuit_breakers (
    id                SERIAL PRIMARY KEY,
    operation_name    VARCHAR(100) NOT NULL UNIQUE,
    state             VARCHAR(10)  NOT NULL DEFAULT 'CLOSED' CHECK (state IN ('CLOSED','OPEN','HALF_OPEN')),
    failure_count     INTEGER NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
    success_count     INTEGER NOT NULL DEFAULT 0 CHECK (success_count >= 0),
    last_failure_time TIMESTAMPTZ,
    last_success_time TIMESTAMPTZ,
    last_state_change TIMESTAMPTZ NOT NULL DEFAULT now(),
    metadata          JSONB
);

CREATE TABLE orchestration_errors (
    id            SERIAL PRIMARY KEY,
    instance_code VARCHAR(3),
    error_code    VARCHAR(50),
    severity      INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    component     VARCHAR(100),
    message       TEXT NOT NULL,
    remediation   TEXT,
    context       JSONB,
    "timestamp"   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    resolved      BOOLEAN NOT NULL DEFAULT false,
    resolved_at   TIMESTAMPTZ,
    resolved_by   VARCHAR(50),
    CHECK (resolved_at IS NULL OR resolved_at >= "timestamp")
);
CREATE INDEX orchestration_errors_open ON orchestration_errors (instance_code, "timestamp") WHERE NOT resolved;

CREATE TABLE orchestration_metrics (
    id            SERIAL PRIMARY KEY,
    instance_code VARCHAR(3)   NOT NULL,
    metric_name   VARCHAR(100) NOT NULL,
    metric_value  NUMERIC,
    metric_unit   VARCHAR(20),
    labels        JSONB,
    "timestamp"   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE checkpoints (
    id               SERIAL PRIMARY KEY,
    checkpoint_id    VARCHAR(255) NOT NULL UNIQUE,
    instance_code    VARCHAR(3)   NOT NULL,
    checkpoint_level VARCHAR(20)  NOT NULL CHECK (checkpoint_level IN ('CONTAINER','CONFIG','KEYCLOAK','FEDERATION','COMPLETE')),
    description      TEXT,
    file_path        TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    created_by       VARCHAR(50) NOT NULL DEFAULT 'system',
    metadata         JSONB
);

-- The state machine, as data: the only transitions the database accepts (rollbacks are marked as such).
CREATE TABLE valid_state_transitions (
    from_state VARCHAR(20) NOT NULL,
    to_state   VARCHAR(20) NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO valid_state_transitions (from_state, to_state) VALUES
    ('UNKNOWN','INITIALIZING'), ('INITIALIZING','DEPLOYING'), ('DEPLOYING','CONFIGURING'),
    ('CONFIGURING','VERIFYING'), ('VERIFYING','COMPLETE'),
    ('FAILED','ROLLING_BACK'), ('ROLLING_BACK','CLEANUP'), ('CLEANUP','UNKNOWN'), ('COMPLETE','CLEANUP'),
    ('COMPLETE','INITIALIZING'), ('FAILED','INITIALIZING'),
    ('UNKNOWN','FAILED'), ('INITIALIZING','FAILED'), ('DEPLOYING','FAILED'), ('CONFIGURING','FAILED'),
    ('VERIFYING','FAILED'), ('COMPLETE','FAILED'), ('ROLLING_BACK','FAILED');

CREATE FUNCTION check_state_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.initiated_by = 'rollback' THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM valid_state_transitions
                   WHERE from_state = COALESCE(NEW.from_state, 'UNKNOWN') AND to_state = NEW.to_state) THEN
        RAISE EXCEPTION 'invalid state transition % -> % for %', COALESCE(NEW.from_state, 'UNKNOWN'), NEW.to_state,
            NEW.instance_code USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER state_transitions_valid BEFORE INSERT ON state_transitions
    FOR EACH ROW EXECUTE FUNCTION check_state_transition();

CREATE FUNCTION get_current_state(code VARCHAR) RETURNS VARCHAR LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT state FROM deployment_states WHERE instance_code = code
                     ORDER BY "timestamp" DESC, id DESC LIMIT 1), 'UNKNOWN')
$$;

CREATE FUNCTION get_deployment_duration(code VARCHAR) RETURNS INTERVAL LANGUAGE sql STABLE AS $$
    SELECT (SELECT max("timestamp") FROM deployment_states WHERE instance_code = code AND state IN ('COMPLETE','FAILED'))
         - (SELECT max("timestamp") FROM deployment_states WHERE instance_code = code AND state = 'INITIALIZING')
$$;

CREATE FUNCTION count_unresolved_errors(code VARCHAR, sev INTEGER) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM orchestration_errors WHERE instance_code = code AND severity = sev AND NOT resolved
$$;

CREATE FUNCTION get_latest_checkpoint(code VARCHAR) RETURNS VARCHAR LANGUAGE sql STABLE AS $$
    SELECT checkpoint_id FROM checkpoints WHERE instance_code = code ORDER BY created_at DESC, id DESC LIMIT 1
$$;

CREATE FUNCTION cleanup_old_metrics() RETURNS BIGINT LANGUAGE sql AS $$
    WITH d AS (DELETE FROM orchestration_metrics WHERE "timestamp" < now() - INTERVAL '7 days' RETURNING 1)
    SELECT count(*) FROM d
$$;

CREATE FUNCTION cleanup_old_transitions() RETURNS BIGINT LANGUAGE sql AS $$
    WITH d AS (DELETE FROM state_transitions WHERE transition_time < now() - INTERVAL '30 days' RETURNING 1)
    SELECT count(*) FROM d
$$;
