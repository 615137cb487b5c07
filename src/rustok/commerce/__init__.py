"""Commerce: products and their variants, prices per currency, inventory per location, and the orders
customers place."""
