"""RusToK: a multi-tenant, event-driven headless CMS and commerce platform."""

__version__ = "0.1.0"
