"""The catalog in and out: products with translations, options and images, variants with prices,
inventory, and what a storefront reads (products with their variants, prices and availability)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rustok.commerce.currencies import ISO_4217
from rustok.commerce.models import ProductStatus
from rustok.core.event_fields import Locale
from rustok.core.fields import Metadata, NoNul, Strict, Trimmed, length
from rustok.core.slugs import Slug

MAX_TRANSLATIONS = 50
MAX_OPTIONS = 10
MAX_OPTION_VALUES = 100
MAX_PRICES = 200
MAX_AMOUNT = 10**15  # minor units: far above any price, far below BIGINT
MAX_QUANTITY = 1_000_000_000
MAX_RANK = 1_000_000_000
MAX_IMAGES = 50
MAX_ALT_CHARS = 1000


Title = Annotated[str, Trimmed, length(500, min_length=1), NoNul]
Subtitle = Annotated[str, length(500), NoNul]
Description = Annotated[
    str,
    length(100_000),
    NoNul,
    Field(
        description="Markdown (CommonMark, with tables and strikethrough); reads serve it as it was "
        "given and rendered, sanitized, as `description_html`."
    ),
]
AltText = Annotated[str, Trimmed, length(MAX_ALT_CHARS, min_length=1), NoNul]
OptionName = Annotated[str, Trimmed, length(100, min_length=1), NoNul]
OptionValue = Annotated[str, Trimmed, length(100, min_length=1), NoNul]
Sku = Annotated[str, Trimmed, length(100, min_length=1), NoNul]
Barcode = Annotated[str, Trimmed, length(64, min_length=1), NoNul]
Reason = Annotated[str, length(500), NoNul]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="In the currency's minor units (cents).")]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
Rank = Annotated[int, Field(ge=0, le=MAX_RANK)]


def _currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError("not an active ISO 4217 currency code")
    return value


Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    Field(description="An active ISO 4217 code, upper case: `EUR`, `USD`."),
]


def _unique(items: list[Any] | None, key: str, what: str) -> list[Any] | None:
    if items is not None:
        keys = [getattr(item, key) for item in items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"each {what} may appear once")
    return items


# ---------------------------------------------------------------------------------------------- products


class ProductTranslationIn(Strict):
    locale: Locale
    title: Title
    handle: Slug | None = Field(
        default=None, description="Made from the title when absent; unique per tenant and locale."
    )
    subtitle: Subtitle | None = None
    description: Description | None = None


class OptionIn(Strict):
    name: OptionName
    values: list[OptionValue] = Field(min_length=1, max_length=MAX_OPTION_VALUES)

    @field_validator("values")
    @classmethod
    def _unique_values(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each value of an option may appear once")
        return values


class ProductImageIn(Strict):
    media_id: uuid.UUID = Field(description="A media item of the tenant (422 `media_not_found` otherwise).")
    alt: dict[Locale, AltText] = Field(
        default_factory=dict,
        max_length=MAX_TRANSLATIONS,
        description="Alt text by locale (an enabled one); a locale without any serves the media item's own.",
    )


Images = Annotated[
    list[ProductImageIn],
    Field(max_length=MAX_IMAGES, description="The product's images, in the order they are shown."),
]


def _unique_images(items: list[ProductImageIn] | None) -> list[ProductImageIn] | None:
    return _unique(items, "media_id", "media item")


class ProductCreate(Strict):
    status: ProductStatus | None = None
    translations: list[ProductTranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)
    options: list[OptionIn] = Field(default_factory=list, max_length=MAX_OPTIONS)
    images: Images = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)

    _unique_images = field_validator("images")(_unique_images)

    @field_validator("translations")
    @classmethod
    def _unique_locales(cls, items: list[ProductTranslationIn]) -> list[ProductTranslationIn]:
        _unique(items, "locale", "locale")
        return items

    @field_validator("options")
    @classmethod
    def _unique_names(cls, items: list[OptionIn]) -> list[OptionIn]:
        _unique(items, "name", "option name")
        return items


class ProductUpdate(Strict):
    """Partial: absent fields stay; translations are upserted per locale (a locale not named stays);
    ``options`` given replace the product's options, ``images`` given its images (``[]``: none)."""

    status: ProductStatus | None = None
    translations: list[ProductTranslationIn] | None = Field(default=None, max_length=MAX_TRANSLATIONS)
    options: list[OptionIn] | None = Field(default=None, max_length=MAX_OPTIONS)
    images: Images | None = None
    metadata: Metadata | None = None

    _unique_images = field_validator("images")(_unique_images)

    @field_validator("translations")
    @classmethod
    def _unique_locales(cls, items: list[ProductTranslationIn] | None) -> list[ProductTranslationIn] | None:
        return _unique(items, "locale", "locale")

    @field_validator("options")
    @classmethod
    def _unique_names(cls, items: list[OptionIn] | None) -> list[OptionIn] | None:
        return _unique(items, "name", "option name")


class ProductTranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    title: str
    handle: str
    subtitle: str | None
    description: str | None = Field(description="Markdown, as it was given.")
    description_html: str | None = Field(description="The description rendered and sanitized.")


class OptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    values: list[str]


class ProductImageOut(BaseModel):
    media_id: uuid.UUID
    position: int = Field(description="0 for the first image.")
    alt: str | None = Field(
        description="In the locale served (asked, else the default): the product's, else the media item's."
    )
    url: str = Field(description="Where the file is fetched.")
    width: int | None = Field(description="In pixels.")
    height: int | None = Field(description="In pixels.")


class ProductSort(StrEnum):
    NEWEST = "newest"
    PRICE = "price"  # cheapest first: a product's price is its cheapest variant's
    PRICE_DESC = "-price"


# ---------------------------------------------------------------------------------------------- variants


class PriceIn(Strict):
    currency: Currency
    amount: Amount
    compare_at_amount: Amount | None = None


def _unique_currencies(items: list[PriceIn] | None) -> list[PriceIn] | None:
    return _unique(items, "currency", "currency")


Options = Annotated[dict[OptionName, OptionValue], Field(max_length=MAX_OPTIONS)]


class VariantCreate(Strict):
    sku: Sku
    title: Title | None = None
    options: Options = Field(
        default_factory=dict, description="One value for every option of the product, by option name."
    )
    prices: list[PriceIn] = Field(max_length=MAX_PRICES, description="One price per currency.")
    inventory_quantity: Quantity | None = Field(
        default=None, description="Stock on hand to start with (when the variant manages inventory)."
    )
    manage_inventory: bool = True
    allow_backorder: bool = False
    low_stock_threshold: Quantity | None = None
    barcode: Barcode | None = None
    weight_grams: Quantity | None = None
    rank: Rank = 0

    _unique = field_validator("prices")(_unique_currencies)


class VariantUpdate(Strict):
    """Partial: absent fields stay; ``title``, ``low_stock_threshold``, ``barcode`` and ``weight_grams``
    null clear them. Prices change through ``PUT /variants/{id}/prices``, stock through the inventory
    routes."""

    sku: Sku | None = None
    title: Title | None = None
    options: Options | None = None
    manage_inventory: bool | None = None
    allow_backorder: bool | None = None
    low_stock_threshold: Quantity | None = None
    barcode: Barcode | None = None
    weight_grams: Quantity | None = None
    rank: Rank | None = None


class PricesPut(Strict):
    prices: list[PriceIn] = Field(max_length=MAX_PRICES, description="The variant's whole price list.")

    _unique = field_validator("prices")(_unique_currencies)


class PriceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    amount: int
    compare_at_amount: int | None


class VariantOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    title: str | None
    options: dict[str, str]
    prices: list[PriceOut]
    manage_inventory: bool
    allow_backorder: bool
    low_stock_threshold: int | None
    barcode: str | None
    weight_grams: int | None
    rank: int
    created_at: datetime
    updated_at: datetime


class ProductVariantOut(VariantOut):
    """A variant as a product read embeds it, with its availability."""

    in_stock: bool = Field(
        description="Whether it can be ordered now: stock available, backorders allowed, or stock not "
        "managed."
    )
    available: int | None = Field(
        description="What can be sold (on hand minus reserved): shown to callers who may read inventory, or "
        "to everyone when the tenant's settings say `commerce.show_stock_quantity`; null otherwise."
    )


class ProductOut(BaseModel):
    id: uuid.UUID
    status: ProductStatus
    metadata: dict[str, Any]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    translations: list[ProductTranslationOut] = Field(
        description="Every translation, or with `?locale=` the one served (asked, else the default)."
    )
    options: list[OptionOut]
    images: list[ProductImageOut]
    variants: list[ProductVariantOut] = Field(
        description="By rank, each with its prices (with `?currency=` only that one) and availability."
    )


# --------------------------------------------------------------------------------------------- inventory


class InventoryAdjust(Strict):
    delta: int = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="Added to the stock on hand.")
    reason: Reason | None = Field(default=None, description="Logged with the change, not stored.")


class InventorySet(Strict):
    quantity: Quantity


class InventoryOut(BaseModel):
    variant_id: uuid.UUID
    quantity: int = Field(description="On hand, over every location.")
    reserved: int = Field(description="Held by open orders.")
    available: int = Field(description="What can be sold: on hand minus reserved.")
    low_stock_threshold: int | None
