from tests.integration.scratch import scratch_tables

__all__ = ["scratch_tables"]
