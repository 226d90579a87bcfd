"""numba, with serial and parallel builds of one kernel picked by the size of the work.

OpenMP threads spin while waiting; on a busy machine a parallel launch for a small
input costs ten times the work itself, so small inputs take the serial build.
Without numba (or with ``EVALKIT_NO_NUMBA=1``) the kernels run as plain Python:
identical numbers, only slow.
"""
from __future__ import annotations

import os
import types
from typing import Any, Callable

PARALLEL_MIN_WORK = 20_000

try:
    if os.environ.get("EVALKIT_NO_NUMBA") == "1":
        raise ImportError("numba disabled by EVALKIT_NO_NUMBA")
    from numba import njit, prange
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False
    prange = range

    def njit(*args: Any, **kwargs: Any) -> Any:
        """Stand-in for ``numba.njit``: the function itself, with or without options."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda fn: fn


class SizedKernel:
    def __init__(self, fn: Callable[..., Any]):
        twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__, fn.__closure__)
        twin.__qualname__ = fn.__qualname__ + "_parallel"
        self.serial = njit(cache=True, nogil=True)(fn)
        self.parallel = njit(cache=True, nogil=True, parallel=True)(twin)
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any, work: int) -> Any:
        return (self.parallel if work >= PARALLEL_MIN_WORK else self.serial)(*args)


def sized_kernel(fn: Callable[..., Any]) -> SizedKernel:
    return SizedKernel(fn)
