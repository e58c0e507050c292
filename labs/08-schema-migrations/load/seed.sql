-- Demo data for `lab serve schema-migrations` and `lab load schema-migrations`: src/schema.sql
-- already holds the 200k users the k6 script reads and renames; refresh the planner's figures.
ANALYZE users;
