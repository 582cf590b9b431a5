"""Value records that cost microseconds to define, where ``@dataclass`` costs about a millisecond.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and
frozen ``__setattr__`` as source text and compiles it with ``exec`` when the class is defined:
0.5-0.9 ms per class on Python 3.11, paid by every process that imports it, and a sign-in
defines about twenty records. That alone was a third of what a fresh process spends in
entra-auth before its first request, and the difference between its first token and msal's.

``Record`` reads the same annotations once and shares precompiled methods. Type checkers see a
dataclass (``dataclass_transform``: the generated ``__init__``, ``frozen``), and the standard
library's ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` keep working on
records (``__dataclass_fields__`` is built on first use), so the public classes that became
records (``Option``, ``EntraContext``…) did not change for their users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()

R = TypeVar("R", bound="Record")


class _Field:
    """One field: what ``field()`` declared, named by ``Record.__init_subclass__``."""

    __slots__ = ("compare", "default", "factory", "kw_only", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        factory: Callable[[], Any] | Any = _MISSING,
        repr: bool = True,
        compare: bool = True,
        kw_only: bool = False,
        name: str = "",
    ) -> None:
        self.name = name
        self.default = default
        self.factory = factory
        self.repr = repr
        self.compare = compare
        self.kw_only = kw_only

    def named(self, name: str) -> _Field:
        return _Field(self.default, self.factory, self.repr, self.compare, self.kw_only, name)

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is _MISSING


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
    repr: bool = True,
    compare: bool = True,
    kw_only: bool = False,
) -> Any:
    """``dataclasses.field`` for records: a default or a factory, and whether the field shows
    in the repr, takes part in equality and hashing, and must be passed by keyword."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, repr, compare, kw_only)


def replace(record: R, /, **changes: Any) -> R:
    """A copy of ``record`` with ``changes`` (``dataclasses.replace`` without its import)."""
    values = {f.name: getattr(record, f.name) for f in type(record).__record_fields__}
    values.update(changes)
    return type(record)(**values)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def _is_dataclass_field(value: object) -> bool:
    kind = type(value)
    return kind.__name__ == "Field" and kind.__module__ == "dataclasses"


def _from_dataclass_field(value: Any, name: str) -> _Field:
    import dataclasses

    def given(x: Any) -> Any:
        return _MISSING if x is dataclasses.MISSING else x

    kw_only = value.kw_only is True
    return _Field(
        given(value.default), given(value.default_factory), value.repr, value.compare, kw_only, name
    )


class _DataclassParams:
    """``__dataclass_params__``: ``@dataclass`` reads ``frozen`` from the bases of a class it
    decorates, so a third party's dataclass may subclass a record."""

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        from types import SimpleNamespace

        eq = owner.__eq__ is not object.__eq__
        return SimpleNamespace(
            init=True, repr=True, eq=eq, order=False, unsafe_hash=False,
            frozen=owner.__record_frozen__, match_args=True, kw_only=False, slots=False,
            weakref_slot=False,
        )  # fmt: skip


class _DataclassFields:
    """``__dataclass_fields__``, built on first use: the standard library's ``fields``,
    ``replace`` and ``asdict`` read it, and only they need ``dataclasses`` imported."""

    def __get__(self, instance: object, owner: type[Record]) -> dict[str, Any]:
        import dataclasses
        import inspect

        result: dict[str, Any] = {}
        annotations: dict[str, Any] = {}
        for klass in reversed(owner.__mro__):
            annotations.update(inspect.get_annotations(klass))
        for spec in owner.__record_fields__:
            made: Any = dataclasses.field(
                default=dataclasses.MISSING if spec.default is _MISSING else spec.default,
                default_factory=(dataclasses.MISSING if spec.factory is _MISSING else spec.factory),
                repr=spec.repr,
                compare=spec.compare,
                kw_only=spec.kw_only,
            )
            made.name = spec.name
            made.type = annotations.get(spec.name, Any)
            made._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
            result[spec.name] = made
        type.__setattr__(owner, "__dataclass_fields__", result)
        return result


class _Signature:
    """``__signature__`` for ``help()`` and ``inspect``, built on first use."""

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        import inspect

        kinds = inspect.Parameter
        params = [
            kinds(
                spec.name,
                kinds.KEYWORD_ONLY if spec.kw_only else kinds.POSITIONAL_OR_KEYWORD,
                default=kinds.empty if spec.required else spec.default,
            )
            for spec in owner.__record_init__
        ]
        return inspect.Signature(params)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base class of a record: annotated class attributes are its fields, as in a dataclass.

    ``class Name(Record)`` is ``@dataclass(frozen=True)``; ``frozen=False`` and ``eq=False``
    are class keywords (``class Host(Record, frozen=False)``); a subclass is frozen when its
    base is. Fields may use ``field()``;
    ``__post_init__`` runs after ``__init__``; ``functools.cached_property`` works on frozen
    records, as on frozen dataclasses."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[_Field, ...]] = ()
    __record_init__: ClassVar[tuple[_Field, ...]] = ()
    __record_positional__: ClassVar[int] = 0
    __record_compare__: ClassVar[tuple[str, ...]] = ()
    __record_frozen__: ClassVar[bool] = True

    def __init_subclass__(
        cls, *, frozen: bool | None = None, eq: bool = True, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if frozen is None:  # a subclass is what its record base is
            frozen = cls.__record_frozen__
        fields = {spec.name: spec for spec in cls.__record_fields__}
        import inspect  # already loaded by pluggy, msal and requests

        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_var(annotation):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Field):
                spec = value.named(name)
                if spec.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
            elif _is_dataclass_field(value):  # a @dataclass subclass; the decorator does the rest
                spec = _from_dataclass_field(value, name)
            else:
                spec = _Field(value, name=name)
            fields[name] = spec
        order = [f for f in fields.values() if not f.kw_only] + [
            f for f in fields.values() if f.kw_only
        ]
        seen_default = ""
        for spec in order:
            if spec.kw_only:
                break
            if spec.required and seen_default:
                raise TypeError(
                    f"{cls.__name__}: non-default field {spec.name!r} follows default field "
                    f"{seen_default!r}"
                )
            if not spec.required:
                seen_default = spec.name
        cls.__record_fields__ = tuple(fields.values())
        cls.__record_init__ = tuple(order)
        cls.__record_positional__ = sum(1 for f in order if not f.kw_only)
        cls.__record_compare__ = tuple(f.name for f in fields.values() if f.compare)
        cls.__record_frozen__ = frozen
        type.__setattr__(cls, "__match_args__", tuple(f.name for f in order if not f.kw_only))
        type.__setattr__(cls, "__dataclass_fields__", _DataclassFields())
        type.__setattr__(cls, "__dataclass_params__", _DataclassParams())
        type.__setattr__(cls, "__signature__", _Signature())
        own = cls.__dict__
        if not frozen:
            if "__setattr__" not in own:
                type.__setattr__(cls, "__setattr__", object.__setattr__)
            if "__delattr__" not in own:
                type.__setattr__(cls, "__delattr__", object.__delattr__)
        if not eq:
            if "__eq__" not in own:
                type.__setattr__(cls, "__eq__", object.__eq__)
            if "__hash__" not in own:
                type.__setattr__(cls, "__hash__", object.__hash__)
        elif not frozen and "__hash__" not in own:
            type.__setattr__(cls, "__hash__", None)  # mutable and comparable

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if len(args) > cls.__record_positional__:
            raise TypeError(
                f"{cls.__name__}() takes {cls.__record_positional__} positional arguments but "
                f"{len(args)} were given"
            )
        given = len(args)
        for index, spec in enumerate(cls.__record_init__):
            name = spec.name
            if index < given:
                if name in kwargs:
                    raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
                value = args[index]
            elif name in kwargs:
                value = kwargs.pop(name)
            elif spec.default is not _MISSING:
                value = spec.default
            elif spec.factory is not _MISSING:
                value = spec.factory()
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
            object.__setattr__(self, name, value)
        if kwargs:
            raise TypeError(
                f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}"
            )
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in type(self).__record_fields__ if f.repr
        )
        return f"{type(self).__qualname__}({shown})"

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in type(self).__record_compare__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")
