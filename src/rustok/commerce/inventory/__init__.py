"""Stock: the one place that changes inventory levels, shared by the inventory routes and by orders. The
use cases are in `rustok.commerce.inventory.service` (re-exported here), their SQL in
`rustok.commerce.inventory.repository`."""

from rustok.commerce.inventory.service import (
    DEFAULT_LOCATION,
    InsufficientStock,
    Stock,
    StockChange,
    adjust,
    available_by_variant,
    default_location,
    fulfil,
    release,
    reserve,
    set_quantity,
    stock_of,
)

__all__ = [
    "DEFAULT_LOCATION",
    "InsufficientStock",
    "Stock",
    "StockChange",
    "adjust",
    "available_by_variant",
    "default_location",
    "fulfil",
    "release",
    "reserve",
    "set_quantity",
    "stock_of",
]
