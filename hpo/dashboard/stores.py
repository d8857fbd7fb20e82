"""Each study's own artifact store, for a dashboard that serves many studies.

optuna-dashboard takes one artifact store. hpo studies each record theirs at create time
(hpo.artifacts), so one dashboard over a storage may need several folders or buckets.
:class:`StudyStores` finds a study's store (``--artifacts`` / ``HPO_ARTIFACTS`` for all, else
the study's recorded one) and :class:`RoutedStore` is the single store handed to the
dashboard: the WSGI layer (hpo.dashboard.middleware) names the request's study in a context
variable, and every read, write and delete goes to that study's store.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any, BinaryIO

from optuna.artifacts.exceptions import ArtifactNotFound

from hpo import artifacts

# The study the current request is about (set per request, so per thread).
current_study: contextvars.ContextVar[int | None] = contextvars.ContextVar("hpo_dashboard_study", default=None)


class StudyStores:
    """Study id -> its artifact store, opened once per location and never creating a folder."""

    def __init__(self, storage: Any, explicit: str | None) -> None:
        self.storage, self.explicit = storage, explicit
        self._by_location: dict[str, Any] = {}
        self._locations: dict[int, str] = {}  # a study's recorded store never changes
        self._lock = threading.Lock()

    def location(self, study_id: int | None) -> str:
        if self.explicit or study_id is None:
            return artifacts.resolve_location(self.explicit)
        with self._lock:
            known = self._locations.get(study_id)
        if known is None:
            try:
                user_attrs = self.storage.get_study_user_attrs(study_id)
            except KeyError:  # no such study: its (absent) files are looked for in the default
                return artifacts.resolve_location(None)
            known = artifacts.study_location(user_attrs)
            with self._lock:
                self._locations[study_id] = known
        return known

    def store_at(self, location: str) -> Any:
        with self._lock:
            if location not in self._by_location:
                self._by_location[location] = artifacts.open_store(location, create=False)
            return self._by_location[location]

    def for_study(self, study_id: int | None) -> Any:
        return self.store_at(self.location(study_id))


class RoutedStore:
    """An optuna ArtifactStore that forwards to the store of the request's study."""

    def __init__(self, stores: StudyStores) -> None:
        self.stores = stores

    def _store(self) -> Any:
        return self.stores.for_study(current_study.get())

    def open_reader(self, artifact_id: str) -> BinaryIO:
        try:
            return self._store().open_reader(artifact_id)
        except FileNotFoundError as exc:  # a folder that does not exist (yet)
            raise ArtifactNotFound("not found") from exc

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        # An upload from the dashboard is the one write: it may create the study's folder.
        location = self.stores.location(current_study.get())
        artifacts.open_store(location, create=True).write(artifact_id, content_body)

    def remove(self, artifact_id: str) -> None:
        self._store().remove(artifact_id)
