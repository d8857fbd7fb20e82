"""Space tests build and run tiny batches: one intra-op thread, as the model tests."""

from tests.models.conftest import one_thread

__all__ = ["one_thread"]
