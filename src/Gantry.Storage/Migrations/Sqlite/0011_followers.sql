-- What a commit of a rollout was, kept with each of its events so that what follows a rollout's events
-- (incidents, notifications) can run after the commit, even after a crash, and still see it as it was:
-- who made it (NULL: Gantry itself), the phase it left, the new release's share of the traffic then, and the
-- largest share that release had had up to that commit.
ALTER TABLE events ADD COLUMN actor TEXT;
ALTER TABLE events ADD COLUMN phase TEXT;
ALTER TABLE events ADD COLUMN share INTEGER;
ALTER TABLE events ADD COLUMN peak INTEGER;
-- How far each follower of the event log has got: the id of the last event it has dealt with, moved after
-- its effects are stored. Followers start at the end of the log as it is now (history is not replayed).
CREATE TABLE cursors (
    name      TEXT PRIMARY KEY,
    position  INTEGER NOT NULL
);
INSERT INTO cursors (name, position) SELECT 'rollout-events', IFNULL(MAX(id), 0) FROM events;
-- A notification made from an event is queued once per receiver, however often the event is looked at.
ALTER TABLE deliveries ADD COLUMN key TEXT;
CREATE UNIQUE INDEX deliveries_key ON deliveries (key) WHERE key IS NOT NULL;
