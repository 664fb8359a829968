-- A fingerprint (sha256 of the normalised request) stored with each video, so that replaying an
-- idempotency key with a different request is refused (422) instead of answered with the first
-- video. Rows from before this migration have none: their replays are not compared.
ALTER TABLE videos ADD COLUMN request_fingerprint text;
