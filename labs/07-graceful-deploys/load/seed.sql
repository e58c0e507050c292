-- Demo data for `lab serve graceful-deploys` and `lab load graceful-deploys`: schema.sql already
-- holds the quotes the routes read; nothing more is needed.
SELECT 1;
