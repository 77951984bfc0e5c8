"""Record types: the stable names under which events are stored.

A record's ``type`` (``motion.vote_cast``) is part of the signed history, so
it must never follow a Python class around.  Domain aggregates declare each
event's ``TYPE`` and register here; storage maps types to classes and back.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

EVENT_CLASSES: dict[str, type[Any]] = {}
TYPE_OF_CLASS: dict[type[Any], str] = {}
# For creation events: the aggregate class they create (its topic is not stored).
AGGREGATE_TOPIC: dict[str, str] = {}
# Aggregate kind ("motion") -> the record type that creates one.
CREATED_TYPE: dict[str, str] = {}
# kind -> ref prefix ("motion" -> "M"), for every aggregate with readable refs.
REF_PREFIX: dict[str, str] = {}


def register_aggregate(cls: type[Aggregate]) -> type[Aggregate]:
    """Class decorator: record every nested event class that declares a TYPE."""
    for attr in vars(cls).values():
        if isinstance(attr, type) and issubclass(attr, Aggregate.Event):
            # eventsourcing's metaclass re-derives nested event classes, so
            # TYPE may be declared one level up the MRO.
            record_type = getattr(attr, "TYPE", None)
            if record_type is None:
                continue
            if record_type in EVENT_CLASSES and EVENT_CLASSES[record_type] is not attr:
                raise RuntimeError(f"record type {record_type} registered twice")
            EVENT_CLASSES[record_type] = attr
            TYPE_OF_CLASS[attr] = record_type
            if issubclass(attr, Aggregate.Created):
                AGGREGATE_TOPIC[record_type] = get_topic(cls)
                kind = getattr(cls, "KIND", "")
                if kind:
                    CREATED_TYPE[kind] = record_type
    if getattr(cls, "KIND", "") and getattr(cls, "PREFIX", ""):
        REF_PREFIX[cls.KIND] = cls.PREFIX  # type: ignore[attr-defined]
    return cls
