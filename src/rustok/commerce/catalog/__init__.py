"""The catalog: products with translations and options, variants, prices, and their inventory routes."""
