"""Studies left half-made by a `study create` that was killed (kill -9, a lost container).

`study create` deletes its study again on any error or signal it can see, but not on SIGKILL.
It stamps the study first (``CREATING_KEY``, when it started) and sets the marker
(hpo.config.MARKER) last, so a study without the marker is either being created right now or
abandoned; one older than ``ABANDONED_AFTER_S`` is abandoned (the largest create, 100,000
slots, takes about a minute). `--if-exists skip` waits for a young one and replaces an old one,
so compose's one-shot creator heals on its restart; `hpo study delete` removes one by hand.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

import optuna

from hpo.config import MARKER

log = logging.getLogger("hpo.studies")

CREATING_KEY = "creating_since"  # study user attr: when its `study create` began, ISO 8601 UTC
ABANDONED_AFTER_S = 300.0
POLL_S = 2.0


def stamp(study: optuna.Study) -> None:
    """Mark ``study`` as being created, now; the first write of a create."""
    study.set_user_attr(CREATING_KEY, datetime.datetime.now(datetime.timezone.utc).isoformat())


def is_unfinished(attrs: dict[str, Any]) -> bool:
    """Begun by `hpo study create` (stamped, or configured by an older hpo) but without the marker."""
    return MARKER not in attrs and (CREATING_KEY in attrs or "space" in attrs)


def age_s(attrs: dict[str, Any]) -> float:
    """Seconds since its create began; infinite for one made by an hpo without the stamp."""
    raw = attrs.get(CREATING_KEY)
    if raw is None:
        return float("inf")
    started = datetime.datetime.fromisoformat(raw)
    return (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()


def wait_while_created(name: str, storage: optuna.storages.BaseStorage,
                       sleep: Callable[[float], None] = time.sleep) -> optuna.Study | None:
    """The study once its own create has finished it; None once it counts as abandoned."""
    while True:
        study = optuna.load_study(study_name=name, storage=storage)
        attrs = study.user_attrs
        if not is_unfinished(attrs):
            return study
        if age_s(attrs) >= ABANDONED_AFTER_S:
            return None
        log.info("study %r is being created by another `study create`; waiting for it", name)
        sleep(POLL_S)


def hint(name: str) -> str:
    """What to do about an unfinished study, for messages."""
    return (f"study {name!r} is unfinished: its `hpo study create` is still running or was killed; if none is "
            f"running, delete it with `hpo study delete {name} --yes`, or re-run the create with "
            "--if-exists skip, which replaces it")
