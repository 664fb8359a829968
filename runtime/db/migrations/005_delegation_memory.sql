-- Delegation's memory: what happened per request pattern (which start the script writer makes),
-- and a record of every paid provider call and delegation step (what /delegation/stats reports).
-- Both are bounded by the worker's retention pass (PATTERN_RETENTION_HOURS,
-- PROVIDER_CALL_RETENTION_HOURS).

CREATE TABLE delegation_patterns (
  style               text NOT NULL,
  duration_band       text NOT NULL,
  topic_class         text NOT NULL,
  writes              integer NOT NULL DEFAULT 0,
  -- Calls to the cheap model for this pattern, and how many gave a usable script.
  cheap_attempts      integer NOT NULL DEFAULT 0,
  cheap_successes     integer NOT NULL DEFAULT 0,
  premium_attempts    integer NOT NULL DEFAULT 0,
  premium_successes   integer NOT NULL DEFAULT 0,
  -- Writes started at the premium model since the cheap one was last tried (its next probe).
  premium_streak      integer NOT NULL DEFAULT 0,
  validation_failures integer NOT NULL DEFAULT 0,
  escalations         integer NOT NULL DEFAULT 0,
  fallbacks           integer NOT NULL DEFAULT 0,
  -- Scripts made, by writer ("anthropic:<model>" or the offline writer): {"writer": count}.
  writers             jsonb NOT NULL DEFAULT '{}',
  last_writer         text,
  cost_usd            numeric(14, 6) NOT NULL DEFAULT 0,
  latency_ms          double precision NOT NULL DEFAULT 0,
  last_used_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (style, duration_band, topic_class)
);
CREATE INDEX delegation_patterns_last_used_idx ON delegation_patterns (last_used_at);

CREATE TABLE provider_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  -- call: one call that reached the provider; skip: a model not called (reason in outcome);
  -- escalation, fallback: delegation steps; cache: a response-cache lookup (hit or miss).
  kind        text NOT NULL CHECK (kind IN ('call', 'skip', 'escalation', 'fallback', 'cache')),
  task        text,
  provider    text NOT NULL,
  -- Empty for a cache miss (no model was involved).
  model       text NOT NULL,
  outcome     text,
  latency_ms  double precision,
  units       bigint NOT NULL DEFAULT 0,
  unit        text,
  cost_usd    numeric(14, 8) NOT NULL DEFAULT 0
);
CREATE INDEX provider_events_at_idx ON provider_events (at);
CREATE INDEX provider_events_model_idx ON provider_events (provider, model, kind, at);

-- The average cost per completed video over the last hour and day.
CREATE INDEX videos_completed_finished_idx ON videos (finished_at) WHERE status = 'completed';
