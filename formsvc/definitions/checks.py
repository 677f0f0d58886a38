"""Checks of single values in a definition (text, flags, numbers, lists of keys), shared by the loader and the
field types. Each takes the value, the setting's name and `fail(reason)`, which raises the DefinitionError
naming the file and field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

Fail = Callable[[str], NoReturn]


def text(value: Any, name: str, fail: Fail) -> str:
    if not isinstance(value, str):
        fail(f"'{name}' must be text")
    return value.strip()


def flag(value: Any, name: str, fail: Fail) -> bool:
    if not isinstance(value, bool):
        fail(f"'{name}' must be true or false")
    return value


def positive(value: Any, name: str, fail: Fail) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        fail(f"'{name}' must be a whole number, at least 1")
    return value


def number(value: Any, name: str, fail: Fail) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        fail(f"'{name}' must be a number")
    return value


def keys(value: Any, name: str, fail: Fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fail(f"'{name}' must be a list of field keys")
    return tuple(value)


def whole_between(low: int, high: int) -> Callable[[Any, str, Fail], int | None]:
    """A check for a whole number from `low` to `high`."""

    def check(value: Any, name: str, fail: Fail) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            fail(f"'{name}' must be a whole number from {low} to {high}")
        return value

    return check
