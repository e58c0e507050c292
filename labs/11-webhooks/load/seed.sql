-- Demo data for `lab serve webhooks` and `lab load webhooks`: none is needed, every credit comes
-- from a webhook the k6 script sends.
SELECT 1;
