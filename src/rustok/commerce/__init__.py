"""Commerce: products and their variants, prices per currency, inventory per location, and the orders
customers place."""

from rustok.commerce import permissions as permissions  # its resources and grants are in force with it
