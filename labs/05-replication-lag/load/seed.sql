-- Demo data for `lab serve replication-lag` and `lab load replication-lag`: the profiles the k6
-- script's editors save (k6-editor-1 … k6-editor-20), so that readers find them from the start.
INSERT INTO profiles (id, display_name)
SELECT 'k6-editor-' || i, 'k6-editor-' || i || ' (seeded)' FROM generate_series(1, 20) AS i;
