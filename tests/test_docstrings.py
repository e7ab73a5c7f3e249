"""Every public function, class and method of bptt has a docstring (its own, or for a method the one it overrides).

Public: reachable from ``bptt`` and its submodules whose dotted path has no part starting with ``_``; in a
module, the names in ``__all__`` (or, without one, the names not starting with ``_`` that the module defines
itself); in a class, the functions, properties and class/static methods it defines whose names do not start with
``_``. A docstring that Python wrote itself (a dataclass's or a NamedTuple's signature line) does not count.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import bptt

# Modules that need an optional dependency to import: listed when it is missing, never silently.
OPTIONAL = {"bptt.interop.torch": "torch"}


def _modules():
    names = ["bptt"]
    for info in pkgutil.walk_packages(bptt.__path__, prefix="bptt."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts):  # private modules and __main__
            continue
        names.append(info.name)
    mods, unimportable = [], []
    for name in names:
        try:
            mods.append(importlib.import_module(name))
        except ImportError as exc:
            if OPTIONAL.get(name) and exc.name == OPTIONAL[name]:
                unimportable.append(name)
            else:
                raise
    return mods, unimportable


def _own_doc(obj) -> str:
    """The docstring the object itself carries, minus what Python generates for dataclasses/NamedTuples/Enums."""
    doc = (obj.__doc__ or "").strip() if inspect.isclass(obj) else (inspect.getdoc(obj) or "").strip()
    if inspect.isclass(obj):
        generated = doc.startswith(obj.__name__ + "(") and doc.endswith(")") and "\n" not in doc
        if generated or doc == "An enumeration." or doc.startswith("Create a collection of name/value pairs."):
            return ""
    return doc


def _public_members(mod):
    if hasattr(mod, "__all__"):
        names = list(mod.__all__)
    else:
        names = [n for n, v in vars(mod).items() if not n.startswith("_")
                 and (inspect.isfunction(v) or inspect.isclass(v)) and getattr(v, "__module__", None) == mod.__name__]
    for n in names:
        obj = getattr(mod, n)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield obj


def _class_members(cls):
    for n, v in vars(cls).items():
        if n.startswith("_"):
            continue
        if isinstance(v, (staticmethod, classmethod)):
            v = v.__func__
        if inspect.isfunction(v) or isinstance(v, property):
            yield n, getattr(cls, n) if not isinstance(v, property) else v


def _method_doc(cls, name, member) -> str:
    """A method's docstring, or the one of the method it overrides (inspect.getdoc walks the MRO)."""
    if isinstance(member, property):
        if member.__doc__:
            return member.__doc__.strip()
        for base in cls.__mro__[1:]:
            p = vars(base).get(name)
            if isinstance(p, property) and p.__doc__:
                return p.__doc__.strip()
        return ""
    return (inspect.getdoc(member) or "").strip()


def missing_docstrings() -> tuple[list[str], list[str]]:
    """(public names without a docstring as 'module.name', modules skipped because an optional dependency is missing)."""
    mods, unimportable = _modules()
    seen, missing = set(), []
    for mod in mods:
        if not (mod.__doc__ or "").strip():
            missing.append(mod.__name__ + " (module)")
        for obj in _public_members(mod):
            key = f"{obj.__module__}.{obj.__qualname__}"
            if key in seen or not obj.__module__.startswith("bptt"):
                continue
            seen.add(key)
            if not _own_doc(obj):
                missing.append(key)
            if inspect.isclass(obj):
                for n, member in _class_members(obj):
                    if not _method_doc(obj, n, member):
                        missing.append(f"{key}.{n}")
    return sorted(set(missing)), unimportable


def test_every_public_name_has_a_docstring():
    missing, unimportable = missing_docstrings()
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(missing)
    if unimportable:  # the rest passed; say which modules could not be looked at
        pytest.skip(f"not checked (optional dependency missing): {', '.join(unimportable)}")


def test_the_checker_sees_a_missing_docstring(monkeypatch):
    """The walk reaches a module-level function, a class and a method (not only top-level names)."""
    gc_mod = importlib.import_module("bptt.gradcheck")  # the module (bptt.gradcheck is also the function)
    linear = importlib.import_module("bptt.nn.linear")

    monkeypatch.setattr(gc_mod.gradcheck, "__doc__", None)
    monkeypatch.setattr(linear.Linear, "__doc__", None)
    missing, _ = missing_docstrings()
    assert "bptt.gradcheck.gradcheck" in missing and "bptt.nn.linear.Linear" in missing
