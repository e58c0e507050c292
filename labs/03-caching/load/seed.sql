-- Demo data for `lab serve caching` and `lab load caching`: the hot products the k6 script reads
-- (PRODUCTS=1,2,3,4,5), each with a few reviews.
INSERT INTO products (id, sku, name, description, price_cents) VALUES
  (1, 'KB-01', 'Mechanical keyboard', 'Tenkeyless, brown switches', 8900),
  (2, 'MS-02', 'Wireless mouse', 'Six buttons, USB-C', 3900),
  (3, 'HD-03', 'Headphones', 'Closed back, 32 ohm', 12900),
  (4, 'MN-04', '27" monitor', '2560x1440, 144 Hz', 32900),
  (5, 'CB-05', 'USB-C cable', '2 m, 100 W', 1500);
INSERT INTO reviews (product_id, stars, body)
SELECT p, 1 + (p * 7 + r) % 5, 'review ' || r FROM generate_series(1, 5) AS p, generate_series(1, 4) AS r;
