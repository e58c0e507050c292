-- Product catalog schema. The harness applies this file to a template database, and every test file
-- gets a fresh copy of it.
CREATE TABLE products (
  id          bigint PRIMARY KEY,
  sku         text   NOT NULL UNIQUE,
  name        text   NOT NULL,
  description text   NOT NULL DEFAULT '',
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reviews (
  id         bigserial PRIMARY KEY,
  product_id bigint NOT NULL REFERENCES products (id),
  stars      int    NOT NULL CHECK (stars BETWEEN 1 AND 5),
  body       text   NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_product_id ON reviews (product_id);

-- The product page: a product with its review summary. In production this is a join across
-- pricing, stock, media and reviews that takes about 300 ms; pg_sleep stands in for that cost here,
-- so every call is as slow as the real one however small the catalog is. Returns no row for an
-- unknown id.
CREATE FUNCTION product_page(p_id bigint)
RETURNS TABLE (
  id bigint,
  sku text,
  name text,
  description text,
  price_cents bigint,
  updated_at timestamptz,
  review_count bigint,
  avg_stars numeric
)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(0.3);
  RETURN QUERY
    SELECT p.id, p.sku, p.name, p.description, p.price_cents, p.updated_at,
           count(r.id), round(avg(r.stars), 2)
      FROM products p
      LEFT JOIN reviews r ON r.product_id = p.id
     WHERE p.id = p_id
     GROUP BY p.id;
END;
$$;
