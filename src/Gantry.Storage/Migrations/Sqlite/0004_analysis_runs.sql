-- Analysis runs with every measurement and verdict: the evidence behind a rollout's decisions.
CREATE TABLE analysis_runs (
    key         TEXT PRIMARY KEY,
    rollout_id  TEXT NOT NULL REFERENCES rollouts (id),
    record      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX analysis_runs_by_rollout ON analysis_runs (rollout_id, updated_at);
