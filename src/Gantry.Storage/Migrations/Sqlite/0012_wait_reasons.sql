-- Where a rollout waits is a list of named reasons instead of four booleans, and a blue-green rollout's
-- progress a named stage instead of a step number. Stored states are rewritten once; nothing else changes.
UPDATE rollouts SET state = json_set(state, '$.waits', json((
    SELECT json_group_array(reason) FROM (
        SELECT 'pausedByPerson' AS reason, 0 AS ord
            WHERE json_extract(state, '$.manualPause') = 1 AND json_extract(state, '$.heldByFreeze') IS NOT 1
              AND json_extract(state, '$.message') NOT LIKE '%inconclusive%' AND json_extract(state, '$.message') NOT LIKE '%onFailure: hold%'
        UNION ALL SELECT 'heldByFreeze', 1 WHERE json_extract(state, '$.heldByFreeze') = 1
        UNION ALL SELECT 'awaitingChecklist', 2 WHERE json_extract(state, '$.awaitsChecklist') = 1 AND json_extract(state, '$.phase') = 'pending'
        UNION ALL SELECT 'awaitingApproval', 3 WHERE json_extract(state, '$.awaitsApproval') = 1
        UNION ALL SELECT 'inconclusiveAnalysis', 4
            WHERE json_extract(state, '$.manualPause') = 1 AND json_extract(state, '$.heldByFreeze') IS NOT 1 AND json_extract(state, '$.message') LIKE '%inconclusive%'
        UNION ALL SELECT 'failedAnalysisHeld', 5
            WHERE json_extract(state, '$.manualPause') = 1 AND json_extract(state, '$.heldByFreeze') IS NOT 1 AND json_extract(state, '$.message') LIKE '%onFailure: hold%'
        UNION ALL SELECT 'awaitingPromotion', 6
            WHERE json_extract(state, '$.phase') = 'paused' AND json_extract(state, '$.manualPause') IS NOT 1 AND json_extract(state, '$.stepUntil') IS NULL
        ORDER BY ord))));

UPDATE rollouts SET state = json_set(state, '$.checklistGated', json(CASE WHEN json_extract(state, '$.awaitsChecklist') = 1 THEN 'true' ELSE 'false' END));

UPDATE rollouts SET state = json_set(state, '$.stage', CASE json_extract(state, '$.step')
        WHEN 0 THEN 'preview' WHEN 1 THEN 'prePromotionAnalysis' WHEN 2 THEN 'awaitingPromotion' WHEN 3 THEN 'switching' ELSE 'postPromotionAnalysis' END,
    '$.step', 0)
    WHERE json_extract(state, '$.strategy') = 'blueGreen';

UPDATE rollouts SET state = json_remove(state, '$.manualPause', '$.heldByFreeze', '$.awaitsChecklist', '$.awaitsApproval');
