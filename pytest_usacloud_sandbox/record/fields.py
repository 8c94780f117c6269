"""How a record is declared, frozen and turned into plain data.

Each field carries its description (``field(metadata=doc("..."))``); with its type annotation (a bound
as :class:`Bound`) that is what the report's schema and docs/report-schema.md are made of, so a field
added to a record is in both; :func:`computed` values are too. A :class:`Record` is filled while what
it records happens and frozen once that has finished: its lists become tuples and assignment raises.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any


@dataclass(frozen=True)
class Bound:
    """The lowest value a number may have, as the schema states it: ``Annotated[int, Bound(0)]``."""

    minimum: float
    exclusive: bool = False


Count = Annotated[int, Bound(0)]
Seconds = Annotated[float, Bound(0)]


def doc(text: str, *, absent_when_none: bool = False) -> dict:
    """A field's metadata: its description; ``absent_when_none``: the key is left out of the document
    instead of being null (so the schema does not require it)."""
    return {"doc": text, "absent_when_none": absent_when_none}


class Computed(property):
    """A read-only value of a record, computed from its fields, that its plain data and the schema
    carry like a field (made by :func:`computed`)."""

    doc = ""


def computed(doc: str):
    """Decorate a record's method as a :class:`Computed` value: ``@computed("commands executed at least once")``."""

    def make(fget) -> Computed:
        value = Computed(fget)
        value.doc = doc
        return value

    return make


class Record:
    """A dataclass mixin: mutable while it is being recorded, read-only for good after :meth:`freeze`."""

    _frozen = False

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}: the record is frozen")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._frozen:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}: the record is frozen")
        object.__delattr__(self, name)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self):
        """Make this record and every record in it read-only; returns it."""
        if not self._frozen:
            for name in _field_names(type(self)):
                value = getattr(self, name)
                if type(value) in _CONTAINERS or isinstance(value, Record):  # a scalar stays as it is
                    object.__setattr__(self, name, _frozen(value))
            object.__setattr__(self, "_frozen", True)
        return self


def _frozen(value):
    kind = type(value)
    if kind is list or kind is tuple:
        if all(type(v) in _SCALARS for v in value):  # words: nothing inside to freeze
            return value if kind is tuple else tuple(value)
        return tuple(_frozen(v) for v in value)
    if kind is dict or kind is types.MappingProxyType:
        return types.MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, Record):
        return value.freeze()
    return value


_CONTAINERS = frozenset({list, tuple, dict, types.MappingProxyType})
_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.cache
def computed_names(cls: type) -> tuple[str, ...]:
    """The :class:`Computed` values of ``cls``, in the order they are defined."""
    names: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        names.update((name, None) for name, value in vars(klass).items() if isinstance(value, Computed))
    return tuple(names)


def plain(value):
    """``value`` as built-in types only (what JSON and execnet take), sharing nothing with it: a
    dataclass as a dict of its fields and computed values, enum members as their words, tuples as
    lists, None fields marked ``absent_when_none`` left out."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        return [v if type(v) is str else plain(v) for v in value]
    if kind is dict or kind is types.MappingProxyType:
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(kind):
        data = {}
        for name, absent in _plain_fields(kind):
            item = getattr(value, name)
            if item is None and absent:
                continue
            data[name] = item if type(item) in _SCALARS else plain(item)
        for name in computed_names(kind):
            data[name] = plain(getattr(value, name))
        return data
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


@functools.cache
def _plain_fields(cls: type) -> tuple[tuple[str, bool], ...]:
    return tuple((f.name, bool(f.metadata.get("absent_when_none"))) for f in dataclasses.fields(cls))


def from_plain(cls: type, data: Mapping):
    """A record of type ``cls`` (frozen) from its plain data (:func:`plain`): nested records, enum
    members and tuples made again from the annotations; computed values and unknown keys ignored."""
    names, converters = _plan(cls)
    kwargs = {name: value for name, value in data.items() if name in names}
    for name, convert in converters:
        if name in kwargs:
            kwargs[name] = convert(kwargs[name])
    made = cls(**kwargs)
    return made.freeze() if isinstance(made, Record) else made


@functools.cache
def _plan(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Any], ...]]:
    """The names of ``cls``'s fields, and a converter for each field whose plain value is not its value."""
    hints = typing.get_type_hints(cls)
    converters = ((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))
    return frozenset(_field_names(cls)), tuple((name, c) for name, c in converters if c is not _same)


def _converter(hint):
    """A function from plain data to a value of the type ``hint`` (:func:`_same` when they are alike)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _converter(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [_converter(a) for a in args if a is not type(None)]
        one = inner[0] if len(inner) == 1 else _same
        return _same if one is _same else (lambda v: None if v is None else one(v))
    if origin is typing.Literal:
        kinds = {type(a) for a in args}
        (kind,) = kinds if len(kinds) == 1 else (None,)
        return kind if kind is not None and issubclass(kind, Enum) else _same
    if origin in (tuple, list, Sequence):
        item = _converter(args[0]) if args else _same
        return lambda v: tuple(item(x) for x in v)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if dataclasses.is_dataclass(hint):
        return functools.partial(from_plain, hint)
    return _same


def _same(value):
    return value
