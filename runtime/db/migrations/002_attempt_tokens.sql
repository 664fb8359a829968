-- Fencing tokens. Each worker attempt of a video carries the BullMQ job token it was given (a new
-- one every time the job is taken, including after a lost lock). The video records which attempt
-- owns it now; each stage row records which attempt wrote it. Every worker write is conditional on
-- its token, so an attempt that lost its lock cannot overwrite the attempt that took over.
-- Rows written before this migration have no token: the next attempt takes them over.
ALTER TABLE videos ADD COLUMN attempt_token text;
ALTER TABLE video_stages ADD COLUMN attempt_token text;
