"""Checks of single values in a definition (text, flags, numbers, lists of keys), shared by the loader and the
field types. Each takes the value, the setting's name and `fail(code, **values)`, which raises the
DefinitionError (a catalogue code, definitions/errors.py) naming the file and field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

Fail = Callable[..., NoReturn]


def text(value: Any, name: str, fail: Fail) -> str:
    if not isinstance(value, str):
        fail("FS012", name=name)
    return value.strip()


def flag(value: Any, name: str, fail: Fail) -> bool:
    if not isinstance(value, bool):
        fail("FS013", name=name)
    return value


def positive(value: Any, name: str, fail: Fail) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        fail("FS014", name=name)
    return value


def number(value: Any, name: str, fail: Fail) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        fail("FS015", name=name)
    return value


def keys(value: Any, name: str, fail: Fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fail("FS016", name=name)
    return tuple(value)


def whole_between(low: int, high: int) -> Callable[[Any, str, Fail], int | None]:
    """A check for a whole number from `low` to `high`."""

    def check(value: Any, name: str, fail: Fail) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            fail("FS017", name=name, low=low, high=high)
        return value

    return check
