-- Demo data for `lab serve rate-limiting` and `lab load rate-limiting`: the two API keys the k6
-- script sends (GREEDY_KEY, POLITE_KEY), on the plan lab.json's settings describe.
INSERT INTO api_keys (key, owner) VALUES
  ('pk_load_greedy', 'greedy client'),
  ('pk_load_polite', 'polite client');
