"""A WSGI layer in front of optuna-dashboard that keeps its artifact views true, and names objectives.

optuna-dashboard lists a trial's artifacts from metadata in its system attrs, which Optuna
cannot change once the trial has finished. Checkpoints deleted after their trial ended (by
workers before resume checkpoints became unlisted, see hpo.artifacts) therefore stay listed,
and opening one made the dashboard fail with HTTP 500 (``ArtifactNotFound``). This layer,
reading only:

- drops artifacts whose file the store no longer holds from ``GET /api/studies/<id>``;
- answers ``GET /artifacts/...`` for such a file, or for a study or trial id that does not
  exist, with 404 instead of 500;
- routes every artifact read, write and delete to the request's study's own store
  (hpo.dashboard.stores), by naming the study of the URL in a context variable;
- serves hpo's own suffixes (``.pt``, ``.onnx``) with hpo's media type
  (hpo.artifacts.MIMETYPES), whatever type was guessed when they were uploaded;
- adds ``objective_names`` for hpo studies made before ``study create`` set metric names.

Everything else passes through unchanged.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from optuna.artifacts import FileSystemArtifactStore

from hpo import artifacts
from hpo.dashboard.stores import StudyStores, current_study
from hpo.studies.metric_names import names_from_user_attrs

ARTIFACTS_ATTR_PREFIX = "artifacts:"  # optuna.artifacts' key for an artifact's metadata
_ID = r"(?P<artifact_id>[0-9a-fA-F-]+)"
_ARTIFACT = re.compile(rf"/artifacts/(?P<study_id>\d+)(?:/(?P<trial_id>\d+))?/{_ID}")
_DELETE_ARTIFACT = re.compile(rf"/api/artifacts/\d+(?:/\d+)?/{_ID}")
_STUDY_DETAIL = re.compile(r"/api/studies/(?P<study_id>\d+)")
# Any URL about one study: its detail, its trials' notes, its artifacts (reads, uploads, deletes).
_ABOUT_STUDY = re.compile(r"/(?:api/)?(?:studies|artifacts)/(?P<study_id>\d+)(?:/.*)?")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Presence:
    """Whether artifacts exist, remembered for ``ttl`` seconds (a page lists many, every few seconds)."""

    def __init__(self, store: Any, ttl: float = 15.0) -> None:
        self.store, self.ttl = store, ttl
        self._known: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        # A folder answers in microseconds; a remote store in a round trip, so ask in parallel.
        self._parallel = 1 if isinstance(store, FileSystemArtifactStore) else 8

    def _check(self, artifact_id: str) -> bool:
        try:
            present = artifacts.exists(self.store, artifact_id)
        except Exception:  # an unreachable store: keep listing, the download will say so
            return True
        with self._lock:
            self._known[artifact_id] = (present, time.monotonic())
        return present

    def exists(self, artifact_id: str, fresh: bool = False) -> bool:
        return self.many([artifact_id], fresh)[artifact_id]

    def many(self, ids: Iterable[str], fresh: bool = False) -> dict[str, bool]:
        now, result, unknown = time.monotonic(), {}, []
        with self._lock:
            for artifact_id in dict.fromkeys(ids):
                known = None if fresh else self._known.get(artifact_id)
                if known is not None and now - known[1] < self.ttl:
                    result[artifact_id] = known[0]
                else:
                    unknown.append(artifact_id)
        if len(unknown) > 1 and self._parallel > 1:
            with ThreadPoolExecutor(max_workers=self._parallel) as pool:
                result.update(zip(unknown, pool.map(self._check, unknown)))
        else:
            result.update((artifact_id, self._check(artifact_id)) for artifact_id in unknown)
        return result

    def forget(self, artifact_id: str) -> None:
        with self._lock:
            self._known.pop(artifact_id, None)


class DashboardFixes:
    """The WSGI app: optuna-dashboard's ``app``, with the fixes this module describes."""

    def __init__(self, app: WsgiApp, storage: Any, stores: StudyStores | None) -> None:
        self.app, self.storage, self.stores = app, storage, stores
        self._presences: dict[str, Presence] = {}  # one per store location
        self._names: dict[int, list[str] | None] = {}  # study id -> names derived from its config

    def presence(self, study_id: int | None) -> Presence | None:
        if self.stores is None:
            return None
        location = self.stores.location(study_id)
        if location not in self._presences:
            self._presences[location] = Presence(self.stores.store_at(location))
        return self._presences[location]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        about = _ABOUT_STUDY.fullmatch(path)
        token = current_study.set(int(about["study_id"]) if about else None)
        try:
            return self._route(environ, start_response, path)
        finally:
            current_study.reset(token)

    def _route(self, environ: dict[str, Any], start_response: StartResponse, path: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method in ("GET", "HEAD"):
            if self.stores is not None and (match := _ARTIFACT.fullmatch(path)):
                return self._artifact(environ, start_response, match)
            if match := _STUDY_DETAIL.fullmatch(path):
                return self._study_detail(environ, start_response, int(match["study_id"]))
        elif method == "DELETE" and self.stores is not None and (match := _DELETE_ARTIFACT.fullmatch(path)):
            presence = self.presence(current_study.get())
            if presence is not None:
                presence.forget(match["artifact_id"])
        return self.app(environ, start_response)

    # --- GET /artifacts/<study_id>[/<trial_id>]/<artifact_id> ---------------------------------

    def _artifact(self, environ: dict[str, Any], start_response: StartResponse, match: re.Match[str]) -> Iterable[bytes]:
        artifact_id, study_id = match["artifact_id"], int(match["study_id"])
        if missing := self._missing_owner(study_id, match["trial_id"]):
            return _not_found(start_response, missing)
        presence = self.presence(study_id)
        assert presence is not None
        if not presence.exists(artifact_id, fresh=True):
            return _not_found(start_response, f"artifact {artifact_id} is no longer in the artifact store")
        mimetype = self._served_type(study_id, match["trial_id"], artifact_id)
        if mimetype is None:
            return self.app(environ, start_response)

        def retyped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("200"):
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", mimetype)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, retyped)

    def _missing_owner(self, study_id: int, trial_id: str | None) -> str | None:
        """Why the URL's study or trial does not exist (optuna-dashboard answers 500), or None."""
        try:
            self.storage.get_study_system_attrs(study_id)
        except KeyError:
            return f"no study with id {study_id}"
        if trial_id is not None:
            try:
                trial = self.storage.get_trial(int(trial_id))
            except KeyError:
                return f"no trial with id {trial_id}"
            try:
                same = self.storage.get_trial_id_from_study_id_trial_number(study_id, trial.number) == int(trial_id)
            except KeyError:
                same = False
            if not same:
                return f"trial {trial_id} is not in study {study_id}"
        return None

    def _served_type(self, study_id: int, trial_id: str | None, artifact_id: str) -> str | None:
        """hpo's media type for the artifact's file name, when hpo knows its suffix."""
        try:
            if trial_id is None:
                attrs = self.storage.get_study_system_attrs(study_id)
            else:
                attrs = self.storage.get_trial_system_attrs(int(trial_id))
            meta = json.loads(attrs.get(ARTIFACTS_ATTR_PREFIX + artifact_id) or "null")
        except Exception:  # unknown ids and odd metadata: the dashboard answers as it does
            return None
        filename = meta.get("filename") if isinstance(meta, dict) else None
        return artifacts.mimetype_of(filename) if isinstance(filename, str) else None

    # --- GET /api/studies/<study_id> -----------------------------------------------------------

    def _study_detail(self, environ: dict[str, Any], start_response: StartResponse, study_id: int) -> Iterable[bytes]:
        status, headers, body = _call(self.app, environ)
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        if status.startswith("200") and content_type.startswith("application/json") and body:
            try:
                detail = json.loads(body)
            except ValueError:
                detail = None
            if isinstance(detail, dict) and self._fix_detail(study_id, detail):
                body = json.dumps(detail).encode()
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def _fix_detail(self, study_id: int, detail: dict[str, Any]) -> bool:
        """Fix a study's detail in place; returns whether anything changed."""
        changed = False
        if "objective_names" not in detail:
            names = self._derived_names(study_id, len(detail.get("directions") or []))
            if names:
                detail["objective_names"] = names
                changed = True
        found = [detail.get("artifacts")]
        found += [t.get("artifacts") for key in ("trials", "best_trials") for t in detail.get(key) or [] if isinstance(t, dict)]
        lists: list[list[Any]] = [items for items in found if isinstance(items, list)]
        metas = [m for items in lists for m in items if isinstance(m, dict) and isinstance(m.get("artifact_id"), str)]
        presence = self.presence(study_id)
        present = presence.many(m["artifact_id"] for m in metas) if presence is not None and metas else {}
        gone = {m["artifact_id"] for m in metas if not present.get(m["artifact_id"], True)}
        for items in lists:
            kept = [m for m in items if not (isinstance(m, dict) and m.get("artifact_id") in gone)]
            for meta in kept:
                mimetype = artifacts.mimetype_of(str(meta.get("filename", ""))) if isinstance(meta, dict) else None
                if mimetype and meta.get("mimetype") != mimetype:
                    meta["mimetype"] = mimetype
                    changed = True
            if len(kept) != len(items):
                items[:] = kept
                changed = True
        return changed

    def _derived_names(self, study_id: int, n_directions: int) -> list[str] | None:
        if study_id not in self._names:  # a study's config never changes
            try:
                user_attrs = self.storage.get_study_user_attrs(study_id)
            except Exception:
                return None
            self._names[study_id] = names_from_user_attrs(user_attrs, n_directions)
        return self._names[study_id]


def _not_found(start_response: StartResponse, why: str) -> Iterable[bytes]:
    body = f"{why}\n".encode()
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion; returns its status, headers and whole body."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info and captured:
            raise exc_info[1].with_traceback(exc_info[2])
        captured["status"], captured["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], b"".join(chunks)
