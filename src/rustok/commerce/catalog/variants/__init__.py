"""Variants of products: their options, SKUs, prices and stock."""
