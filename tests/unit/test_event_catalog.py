"""The event catalog holds every event type of the spec with exactly its payload, loads stored payloads
(upcasting old versions), refuses what does not fit, and publishes a JSON Schema per type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

import rustok.commerce.events
import rustok.content.events
import rustok.index.events
import rustok.tenants.events
import rustok.users.events
from rustok.core.events import CATALOG, Catalog, DomainEvent, EventError, Payload

EVENT_MODULES = (
    rustok.tenants.events,
    rustok.users.events,
    rustok.content.events,
    rustok.commerce.events,
    rustok.index.events,
)


@dataclass(frozen=True)
class Spec:
    """One row of the spec's event catalog (schema version 1)."""

    module: str
    class_name: str
    fields: frozenset[str]
    optional: frozenset[str] = frozenset()


def spec(module: str, class_name: str, fields: str, optional: str = "") -> Spec:
    return Spec(f"rustok.{module}.events", class_name, frozenset(fields.split()), frozenset(optional.split()))


# The spec's table, copied by hand: a change to a payload must change this too.
SPEC: dict[str, Spec] = {
    "node.created": spec("content", "NodeCreated", "node_id kind author_id", optional="author_id"),
    "node.updated": spec("content", "NodeUpdated", "node_id kind"),
    "node.translation.updated": spec("content", "NodeTranslationUpdated", "node_id locale"),
    "node.published": spec("content", "NodePublished", "node_id kind"),
    "node.unpublished": spec("content", "NodeUnpublished", "node_id kind"),
    "node.deleted": spec("content", "NodeDeleted", "node_id kind"),
    "body.updated": spec("content", "BodyUpdated", "node_id locale"),
    "category.created": spec("content", "CategoryCreated", "category_id"),
    "category.updated": spec("content", "CategoryUpdated", "category_id"),
    "category.deleted": spec("content", "CategoryDeleted", "category_id"),
    "tag.created": spec("content", "TagCreated", "tag_id name"),
    "tag.attached": spec("content", "TagAttached", "tag_id target_type target_id"),
    "tag.detached": spec("content", "TagDetached", "tag_id target_type target_id"),
    "media.uploaded": spec("content", "MediaUploaded", "media_id mime_type size"),
    "media.deleted": spec("content", "MediaDeleted", "media_id"),
    "user.registered": spec("users", "UserRegistered", "user_id email"),
    "user.logged_in": spec("users", "UserLoggedIn", "user_id"),
    "user.updated": spec("users", "UserUpdated", "user_id"),
    "user.deleted": spec("users", "UserDeleted", "user_id"),
    "product.created": spec("commerce", "ProductCreated", "product_id"),
    "product.updated": spec("commerce", "ProductUpdated", "product_id"),
    "product.published": spec("commerce", "ProductPublished", "product_id"),
    "product.unpublished": spec("commerce", "ProductUnpublished", "product_id"),
    "product.deleted": spec("commerce", "ProductDeleted", "product_id"),
    "variant.created": spec("commerce", "VariantCreated", "variant_id product_id"),
    "variant.updated": spec("commerce", "VariantUpdated", "variant_id product_id"),
    "variant.deleted": spec("commerce", "VariantDeleted", "variant_id product_id"),
    "inventory.updated": spec(
        "commerce",
        "InventoryUpdated",
        "variant_id product_id location_id old_quantity new_quantity",
        optional="location_id",
    ),
    "inventory.low": spec("commerce", "InventoryLow", "variant_id product_id remaining threshold"),
    "price.updated": spec(
        "commerce",
        "PriceUpdated",
        "variant_id product_id currency old_amount new_amount",
        optional="old_amount",
    ),
    "order.placed": spec(
        "commerce", "OrderPlaced", "order_id customer_id total currency", optional="customer_id"
    ),
    "order.status_changed": spec("commerce", "OrderStatusChanged", "order_id old_status new_status"),
    "order.completed": spec("commerce", "OrderCompleted", "order_id"),
    "order.cancelled": spec("commerce", "OrderCancelled", "order_id reason", optional="reason"),
    "index.reindex_requested": spec(
        "index", "ReindexRequested", "target_type target_id", optional="target_id"
    ),
    "index.updated": spec("index", "IndexUpdated", "index_name target_id"),
    "tenant.created": spec("tenants", "TenantCreated", "tenant_id"),
    "tenant.updated": spec("tenants", "TenantUpdated", "tenant_id"),
    "locale.enabled": spec("tenants", "LocaleEnabled", "locale"),
    "locale.disabled": spec("tenants", "LocaleDisabled", "locale"),
}

# Types beyond the spec's table, for state changes it announces but names no event for (docs/events.md).
EXTENSIONS: dict[str, Spec] = {
    "tag.updated": spec("content", "TagUpdated", "tag_id"),
    "tag.deleted": spec("content", "TagDeleted", "tag_id"),
    "media.updated": spec("content", "MediaUpdated", "media_id locales"),
}
SPEC.update(EXTENSIONS)

EVENT_TYPES = sorted(SPEC)

# A valid value for every payload field of the catalog, by field name (JSON form, as stored).
VALID_VALUES: dict[str, Any] = {
    **{
        name: str(uuid.UUID(int=number))
        for number, name in enumerate(
            [
                "node_id",
                "author_id",
                "category_id",
                "tag_id",
                "target_id",
                "media_id",
                "user_id",
                "product_id",
                "variant_id",
                "location_id",
                "order_id",
                "customer_id",
                "tenant_id",
            ],
            start=1,
        )
    },
    "kind": "blog_post",
    "locale": "pt-BR",
    "locales": ["en", "pt-BR"],
    "name": "Summer sale",
    "target_type": "product",  # valid both for tags (node, product) and for reindexing (content, product)
    "mime_type": "image/png",
    "size": 2048,
    "email": "ada@example.com",
    "old_quantity": -2,  # a backorder
    "new_quantity": 5,
    "remaining": 3,
    "threshold": 5,
    "currency": "EUR",
    "old_amount": 1999,
    "new_amount": 1499,
    "total": 4250,
    "old_status": "pending",
    "new_status": "paid",
    "reason": "Customer changed their mind",
    "index_name": "products",
}


def valid_payload(event_type: str, *, with_optional: bool = True) -> Payload:
    """A stored (JSON) payload of ``event_type`` that validates, with or without its optional fields."""
    row = SPEC[event_type]
    names = row.fields if with_optional else row.fields - row.optional
    return {name: VALID_VALUES[name] for name in names}


# ---------------------------------------------------------------------------------------- the catalog


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_spec_event_type_is_registered_at_version_1_with_exactly_its_fields(event_type: str) -> None:
    # Given the five modules' event types are imported
    row = SPEC[event_type]

    # When the catalog is asked for the type
    event_class = CATALOG.get(event_type)

    # Then it is the spec's class, at version 1, with exactly the spec's fields and optional fields
    assert (event_class.__module__, event_class.__name__) == (row.module, row.class_name)
    assert event_class.event_type == event_type
    assert event_class.schema_version == 1
    assert set(event_class.model_fields) == row.fields
    optional = {name for name, info in event_class.model_fields.items() if not info.is_required()}
    assert optional == row.optional
    assert all(event_class.model_fields[name].default is None for name in optional)


def test_the_modules_register_no_event_type_outside_the_spec() -> None:
    # Given the catalog after importing the five modules
    module_names = {module.__name__ for module in EVENT_MODULES}

    # When its types are filtered to those declared in the modules
    declared = {event_class.event_type for event_class in CATALOG if event_class.__module__ in module_names}

    # Then they are exactly the spec's types and the documented extensions, and the catalog is consistent
    # (no missing upcaster)
    assert declared == set(SPEC)
    CATALOG.check()


@pytest.mark.parametrize("with_optional", [True, False], ids=["with-optional", "without-optional"])
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_payload_round_trips_through_its_stored_json_form(event_type: str, with_optional: bool) -> None:
    # Given a payload built from valid values
    event_class = CATALOG.get(event_type)
    payload = event_class.model_validate(valid_payload(event_type, with_optional=with_optional))

    # When it is dumped as it would be stored and loaded back from the catalog
    loaded = CATALOG.load(event_type, 1, payload.model_dump(mode="json"))

    # Then the same typed payload comes back
    assert type(loaded) is event_class
    assert loaded == payload
    if not with_optional:
        assert all(getattr(loaded, name) is None for name in SPEC[event_type].optional)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_stored_payload_with_an_unknown_field_is_refused(event_type: str) -> None:
    # Given a stored payload with a field the type does not declare
    stored = {**valid_payload(event_type), "unexpected": "value"}

    # When it is loaded, then validation refuses it
    with pytest.raises(ValidationError, match="unexpected"):
        CATALOG.load(event_type, 1, stored)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_stored_payload_with_a_field_of_the_wrong_type_is_refused(event_type: str) -> None:
    # Given a stored payload whose first required field holds an object instead of a scalar
    row = SPEC[event_type]
    field_name = sorted(row.fields - row.optional)[0]
    stored = {**valid_payload(event_type), field_name: {"not": "a scalar"}}

    # When it is loaded, then validation refuses it, naming the field
    with pytest.raises(ValidationError, match=field_name):
        CATALOG.load(event_type, 1, stored)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_stored_payload_missing_a_required_field_is_refused(event_type: str) -> None:
    # Given a stored payload without one of its required fields
    row = SPEC[event_type]
    field_name = sorted(row.fields - row.optional)[-1]
    stored = valid_payload(event_type)
    del stored[field_name]

    # When it is loaded, then validation refuses it
    with pytest.raises(ValidationError, match=field_name):
        CATALOG.load(event_type, 1, stored)


def test_payloads_are_immutable() -> None:
    # Given a payload
    event = rustok.content.events.NodeCreated(node_id=uuid.uuid4(), kind="page")

    # When a field is assigned, then it is refused
    with pytest.raises(ValidationError):
        event.kind = "post"  # type: ignore[misc]
    assert event.kind == "page"


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_json_schema_of_every_type_requires_exactly_its_required_fields(event_type: str) -> None:
    # Given the catalog's published schemas
    schemas = CATALOG.json_schemas()

    # When the entry of one type is read
    entry = schemas[event_type]

    # Then it is version 1, with the spec's properties, required fields, and no others allowed
    row = SPEC[event_type]
    assert entry["schema_version"] == 1
    schema = entry["schema"]
    assert set(schema["properties"]) == row.fields
    assert set(schema.get("required", [])) == row.fields - row.optional
    assert schema["additionalProperties"] is False


# -------------------------------------------------------------------------------- field constraints


@pytest.mark.parametrize(
    ("event_type", "field_name", "value"),
    [
        ("node.created", "kind", "Blog Post"),
        ("node.created", "kind", "1page"),
        ("node.created", "kind", "k" * 65),
        ("body.updated", "locale", "english"),
        ("body.updated", "locale", "EN"),
        ("locale.enabled", "locale", "en_US"),
        ("tag.created", "name", ""),
        ("tag.created", "name", "x" * 201),
        ("tag.attached", "target_type", "category"),
        ("media.uploaded", "size", -1),
        ("user.registered", "email", "a" * 310 + "@example.com"),
        ("inventory.low", "threshold", -1),
        ("price.updated", "currency", "eur"),
        ("price.updated", "new_amount", -1),
        ("price.updated", "old_amount", 19.99),
        ("order.placed", "total", -100),
        ("order.status_changed", "new_status", "lost"),
        ("order.cancelled", "reason", "r" * 501),
        ("index.reindex_requested", "target_type", "node"),
        ("index.updated", "index_name", "product"),
    ],
)
def test_a_value_outside_a_fields_constraints_is_refused(
    event_type: str, field_name: str, value: Any
) -> None:
    # Given an otherwise valid stored payload with one value out of bounds
    stored = {**valid_payload(event_type), field_name: value}

    # When it is loaded, then validation refuses it
    with pytest.raises(ValidationError, match=field_name):
        CATALOG.load(event_type, 1, stored)


@pytest.mark.parametrize(
    ("event_type", "field_name", "value"),
    [
        ("node.created", "kind", "p"),
        ("node.created", "kind", "landing-page_2"),
        ("body.updated", "locale", "en"),
        ("body.updated", "locale", "zh-Hant-TW"),
        ("locale.enabled", "locale", "gsw"),
        ("inventory.updated", "new_quantity", -3),
        ("inventory.low", "remaining", 0),
        ("price.updated", "new_amount", 0),
        ("tag.attached", "target_type", "node"),
        ("index.reindex_requested", "target_type", "content"),
        ("index.updated", "index_name", "content"),
    ],
)
def test_a_value_at_the_edge_of_a_fields_constraints_is_accepted(
    event_type: str, field_name: str, value: Any
) -> None:
    # Given a stored payload with a value that is unusual but allowed
    stored = {**valid_payload(event_type), field_name: value}

    # When it is loaded
    loaded = CATALOG.load(event_type, 1, stored)

    # Then the value is kept as given
    assert getattr(loaded, field_name) == value


# ----------------------------------------------------------------------- versions and registration


def test_a_v1_payload_is_upcast_step_by_step_to_the_current_version() -> None:
    # Given a private catalog with a type at v3 and upcasters v1->v2 (rename) and v2->v3 (add a field)
    catalog = Catalog()

    class WidgetRenamed(DomainEvent, event_type="widget.renamed", version=3, catalog=catalog):
        widget_id: uuid.UUID
        new_title: str
        locale: str

    @catalog.upcaster("widget.renamed", 1)
    def rename_name_to_title(payload: Payload) -> Payload:
        data = dict(payload)
        data["new_title"] = data.pop("new_name")
        return data

    @catalog.upcaster("widget.renamed", 2)
    def add_default_locale(payload: Payload) -> Payload:
        return {**payload, "locale": "en"}

    widget_id = uuid.uuid4()

    # When a v1 payload is loaded
    loaded = catalog.load("widget.renamed", 1, {"widget_id": str(widget_id), "new_name": "Gizmo"})

    # Then it arrives in the v3 shape, the catalog is consistent, and the global catalog is untouched
    assert loaded == WidgetRenamed(widget_id=widget_id, new_title="Gizmo", locale="en")
    assert catalog.load("widget.renamed", 3, loaded.model_dump(mode="json")) == loaded
    catalog.check()
    assert "widget.renamed" not in CATALOG


def test_a_missing_upcaster_is_reported_by_check_and_by_load() -> None:
    # Given a private catalog with a type at v2 and no upcaster from v1
    catalog = Catalog()

    class GadgetMoved(DomainEvent, event_type="gadget.moved", version=2, catalog=catalog):
        gadget_id: uuid.UUID

    # When the catalog is checked, then the gap is reported
    with pytest.raises(EventError, match="no upcaster from v1"):
        catalog.check()

    # And when a v1 payload is loaded, then the gap is reported too
    with pytest.raises(EventError, match="no upcaster from v1"):
        catalog.load("gadget.moved", 1, {"gadget_id": str(uuid.uuid4())})

    # While a payload at the current version still loads
    gadget_id = uuid.uuid4()
    assert catalog.load("gadget.moved", 2, {"gadget_id": str(gadget_id)}) == GadgetMoved(gadget_id=gadget_id)


def test_a_stored_version_newer_than_the_class_is_refused() -> None:
    # Given a private catalog with a type at v1
    catalog = Catalog()

    class GadgetMoved(DomainEvent, event_type="gadget.moved", catalog=catalog):
        gadget_id: uuid.UUID

    # When a v2 payload (written by a newer build) is loaded, then it is refused
    with pytest.raises(EventError, match="newer than this build knows"):
        catalog.load("gadget.moved", 2, {"gadget_id": str(uuid.uuid4())})
    assert GadgetMoved.schema_version == 1


def test_an_unknown_event_type_is_refused() -> None:
    # Given an empty private catalog, when an unknown type is loaded, then it is refused
    with pytest.raises(EventError, match="unknown event type"):
        Catalog().load("gadget.moved", 1, {})


def test_two_classes_cannot_register_the_same_event_type() -> None:
    # Given a private catalog with a type registered
    catalog = Catalog()

    class GadgetMoved(DomainEvent, event_type="gadget.moved", catalog=catalog):
        gadget_id: uuid.UUID

    # When another class claims the same name, then it is refused and the first class stays
    with pytest.raises(EventError, match="already registered"):

        class GadgetMovedAgain(DomainEvent, event_type="gadget.moved", catalog=catalog):
            gadget_id: uuid.UUID

    assert catalog.get("gadget.moved") is GadgetMoved


def test_a_second_upcaster_for_the_same_step_is_refused() -> None:
    # Given a private catalog with an upcaster from v1 of a type
    catalog = Catalog()
    catalog.upcaster("gadget.moved", 1)(dict)

    # When another upcaster for the same step is registered, then it is refused
    with pytest.raises(EventError, match="already registered"):
        catalog.upcaster("gadget.moved", 1)(dict)


@pytest.mark.parametrize("name", ["gadgetmoved", "Gadget.Moved", ".gadget", "gadget.", "gadget moved", ""])
def test_an_event_type_that_is_not_a_dotted_lower_case_name_is_refused(name: str) -> None:
    # Given a private catalog, when a class declares a malformed name, then it is refused
    catalog = Catalog()
    with pytest.raises(EventError, match="dotted lower-case name"):

        class Malformed(DomainEvent, event_type=name, catalog=catalog):
            value: int

    assert len(catalog) == 0


def test_a_schema_version_below_1_is_refused() -> None:
    # Given a private catalog, when a class declares version 0, then it is refused
    catalog = Catalog()
    with pytest.raises(EventError, match="start at 1"):

        class Versionless(DomainEvent, event_type="gadget.moved", version=0, catalog=catalog):
            gadget_id: uuid.UUID

    assert "gadget.moved" not in catalog
