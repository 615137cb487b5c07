"""Field types shared by the event payloads of every module, so a locale, a kind or an amount means the
same thing (and validates the same way) in every event that carries one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

Locale = Annotated[str, StringConstraints(max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
"""A BCP 47-ish language tag: ``en``, ``pt-BR``, ``zh-Hant-TW``; at most 35 characters (RFC 5646's
minimum buffer, and the width of every locale column)."""

Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
"""A content kind (``page``, ``blog_post``): a slug, since tenants define their own kinds."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code: ``EUR``, ``USD``."""

MinorUnits = Annotated[int, Field(ge=0)]
"""An amount of money in the currency's minor units (cents), never negative."""
