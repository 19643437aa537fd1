-- A counter raised in the transaction of every change that bears on what should run or how traffic is split (a
-- rollout created or saved, a maintenance or pause switch): the reconciler reads this one row on each tick and
-- reads the rollouts again only when it moved, so a store at rest costs one tiny query, whichever replica wrote.
CREATE TABLE change_mark (id INTEGER PRIMARY KEY, mark BIGINT NOT NULL);
INSERT INTO change_mark (id, mark) VALUES (1, 0);
