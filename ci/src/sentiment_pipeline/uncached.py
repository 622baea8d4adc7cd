"""`@function(cache="never")` with its types, for the module's functions that act on the world."""

from __future__ import annotations

from collections.abc import Callable

from dagger import function


def uncached[**P, R](*, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`@function(cache="never")`: the engine must run each call (it deploys, pushes, issues keys),
    never answer it from its cache.

    dagger-io 0.21.11's overloads of `function()` lack the `cache=` its implementation takes and
    the engine honours; this one place ignores that error, so the functions keep their types.
    """
    decorate: Callable[[Callable[P, R]], Callable[P, R]] = function(name=name, cache="never")  # type: ignore[call-overload]
    return decorate
