"""Discovery of skser's public estimators, like :func:`sklearn.utils.all_estimators`."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin

from ..exceptions import ParameterError

#: Public modules that hold no estimators; importing them is skipped.
_NOT_ESTIMATOR_MODULES = frozenset({"cli", "exceptions", "io", "utils"})

_TYPE_FILTERS = ("classifier", "regressor", "transformer", "sampler")


def _is_sampler(cls: type) -> bool:
    return callable(getattr(cls, "fit_resample", None))


_MATCHES = {
    "classifier": lambda cls: issubclass(cls, ClassifierMixin),
    "regressor": lambda cls: issubclass(cls, RegressorMixin),
    "transformer": lambda cls: issubclass(cls, TransformerMixin),
    "sampler": _is_sampler,
}


def _public_modules() -> list[str]:
    import skser

    return sorted(
        f"skser.{info.name}"
        for info in pkgutil.iter_modules(skser.__path__)
        if not info.name.startswith("_") and info.name not in _NOT_ESTIMATOR_MODULES
    )


def all_estimators(type_filter: str | list[str] | None = None) -> list[tuple[str, type]]:
    """List skser's public estimator classes.

    An estimator is public when a public skser subpackage or module (not
    starting with ``_``) lists it in its ``__all__``. Abstract classes and
    base classes (names starting with ``Base``) are left out. New estimators
    are picked up as soon as they are exported, so tests built on this list
    (save/load round trips, estimator checks) cover them automatically.

    Importing the subpackages imports torch (the neural classifiers live in
    :mod:`skser.models`).

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "sampler"}, list of those or None
        Keep only estimators of these kinds (a sampler has ``fit_resample``,
        as imbalanced-learn's samplers do). ``None`` keeps every estimator.

    Returns
    -------
    estimators : list of (str, type)
        ``(class name, class)`` pairs sorted by name, each class once.

    Examples
    --------
    >>> from skser.utils import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="transformer")]
    >>> "MFCC" in names and "Functionals" in names
    True
    """
    if type_filter is None:
        filters: list[str] = []
    else:
        filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = [f for f in filters if f not in _TYPE_FILTERS]
    if unknown:
        raise ParameterError(
            f"type_filter must be None or among {list(_TYPE_FILTERS)}; got {unknown!r}."
        )

    found: dict[str, type] = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skser.")
                and not inspect.isabstract(obj)
                and not name.startswith(("Base", "_"))
            ):
                found[name] = obj
    if filters:
        found = {n: c for n, c in found.items() if any(_MATCHES[f](c) for f in filters)}
    return sorted(found.items())
