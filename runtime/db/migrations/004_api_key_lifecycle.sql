-- The API key lifecycle: every key expires, carries scopes, and can be rotated to a successor.
-- Keys from before this migration get 30 days from now (not from their creation, which would
-- lock out a running deployment at once) and the "videos" scope, which is all they could do.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
UPDATE api_keys SET expires_at = now() + interval '30 days';
ALTER TABLE api_keys ALTER COLUMN expires_at SET NOT NULL;
-- "videos": the /v1 routes; "ops": operational endpoints.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{videos}'
  CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['videos', 'ops']::text[]);
-- A rotated key points at its successor, the successor at the key it replaced.
ALTER TABLE api_keys ADD COLUMN rotated_from uuid REFERENCES api_keys (id);
ALTER TABLE api_keys ADD COLUMN successor_id uuid REFERENCES api_keys (id);
-- When the first request after expiry was refused (and audited as key.expired): only that one is.
ALTER TABLE api_keys ADD COLUMN expiry_refused_at timestamptz;
