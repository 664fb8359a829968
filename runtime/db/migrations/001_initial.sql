-- Videos and their stages, API keys, and the audit log.

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- sha256 of the key; the key itself is shown once and never stored.
  key_hash     text NOT NULL UNIQUE,
  -- The first characters of the key, so an operator can tell keys apart.
  key_prefix   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

CREATE TABLE videos (
  id               uuid PRIMARY KEY,
  api_key_id       uuid REFERENCES api_keys (id),
  idempotency_key  text,
  spec             jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  current_stage    text,
  progress         real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  cost_usd         numeric(12, 6) NOT NULL DEFAULT 0,
  output_url       text,
  captions_url     text,
  error_stage      text,
  error_message    text,
  attempts         integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  -- One job per caller and idempotency key, whatever the race.
  UNIQUE (api_key_id, idempotency_key)
);
CREATE INDEX videos_created_idx ON videos (created_at DESC, id DESC);
CREATE INDEX videos_status_created_idx ON videos (status, created_at DESC, id DESC);

CREATE TABLE video_stages (
  video_id       uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  stage          text NOT NULL,
  status         text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  attempt        integer NOT NULL,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  duration_ms    integer,
  output         jsonb,
  cost_usd       numeric(12, 6) NOT NULL DEFAULT 0,
  error_message  text,
  PRIMARY KEY (video_id, stage)
);

CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  -- "key:<api key id>", "cli", or "worker".
  actor      text NOT NULL,
  action     text NOT NULL,
  subject    text,
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, at);
