"""Records behave as the frozen dataclasses they replaced: construction, equality, hashing,
immutability, reprs that hide what they must, and the ``dataclasses`` functions users call on
the public ones (``fields``, ``replace``, ``asdict``, subclassing with ``@dataclass``)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import subprocess
import sys
from functools import cached_property

import pytest

from entra_auth import EntraContext, Environment, Option, ProviderSettings, SecretScheme
from entra_auth.records import Record, field, replace


class Point(Record):
    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    tags: list[str] = field(default_factory=list, repr=False, compare=False)


class Mutable(Record, frozen=False):
    count: int = 0


class Identity(Record, eq=False):
    name: str


def test_construction_by_position_and_keyword_with_defaults_and_factories() -> None:
    a = Point(1)
    b = Point(1, y=2, label="b")
    assert (a.x, a.y, a.label, a.tags) == (1, 0, "", [])
    assert (b.x, b.y, b.label) == (1, 2, "b")
    assert a.tags is not Point(1).tags  # a fresh list each time


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Point(), "missing required argument: 'x'"),
        (lambda: Point(1, 2, "a", [], 5), "takes 4 positional arguments but 5 were given"),
        (lambda: Point(1, x=2), "multiple values for argument 'x'"),
        (lambda: Point(1, z=2), "unexpected keyword argument 'z'"),
    ],
)
def test_wrong_arguments_are_refused_as_python_refuses_them(call, message) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_a_required_field_after_a_default_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="non-default field 'b' follows default field 'a'"):

        class Bad(Record):
            a: int = 0
            b: int


def test_keyword_only_fields_come_after_the_positional_ones() -> None:
    class Base(Record):
        a: str

    class Child(Base):
        b: str = field(kw_only=True)
        c: str = "c"

    made = Child("a", b="b")
    assert (made.a, made.b, made.c) == ("a", "b", "c")
    assert Child.__match_args__ == ("a", "c")
    with pytest.raises(TypeError, match="missing required argument: 'b'"):
        Child("a")
    assert str(inspect.signature(Child)) == "(a, c='c', *, b)"


def test_equality_and_hash_follow_the_compared_fields() -> None:
    assert Point(1, 2, "one") == Point(1, 2, "two")  # label is compare=False
    assert hash(Point(1, 2, "one")) == hash(Point(1, 2, "two"))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1) != (1, 0)
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_eq_false_compares_by_identity_and_mutable_records_are_unhashable() -> None:
    one = Identity("a")
    assert one == one and one != Identity("a")
    assert len({one, Identity("a")}) == 2
    with pytest.raises(TypeError, match="unhashable"):
        hash(Mutable())


def test_frozen_records_refuse_assignment_and_mutable_ones_take_it() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x  # type: ignore[misc]
    assert point.x == 1
    counter = Mutable()
    counter.count += 1
    assert counter.count == 1


def test_repr_names_the_class_and_leaves_out_hidden_fields() -> None:
    assert repr(Point(1, 2, "a", ["secret-tag"])) == "Point(x=1, y=2, label='a')"
    scheme = SecretScheme("vault", "A vault.", lambda r: "hunter2", "vault:NAME")
    assert "resolve" not in repr(scheme) and "lambda" not in repr(scheme)


def test_post_init_and_cached_property_work_on_frozen_records() -> None:
    class Checked(Record):
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

        @cached_property
        def double(self) -> int:
            return self.value * 2

    assert Checked(2).double == 4
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    with pytest.raises(ValueError, match="lower-case"):
        SecretScheme("Vault", "", lambda r: "")


def test_replace_copies_with_changes() -> None:
    point = Point(1, 2, "a")
    moved = replace(point, y=3)
    assert (moved.x, moved.y, moved.label) == (1, 3, "a")
    assert point.y == 2


def test_the_dataclasses_functions_work_on_public_records() -> None:
    context = EntraContext(client_id="c", tenant_id="t", scopes=("User.Read.All",))
    assert dataclasses.is_dataclass(context) and dataclasses.is_dataclass(EntraContext)
    names = [f.name for f in dataclasses.fields(context)]
    assert names[:4] == ["client_id", "tenant_id", "certificate_thumbprint", "scopes"]
    assert dataclasses.replace(context, tenant_id="u").tenant_id == "u"
    assert dataclasses.asdict(context)["scopes"] == ("User.Read.All",)
    option = Option("colour", "Which colour.", check=str.lower)
    check = {f.name: f for f in dataclasses.fields(option)}["check"]
    assert check.repr is False and check.compare is False
    assert dataclasses.replace(option, flag="").flag == ""


def test_a_third_party_dataclass_may_subclass_a_public_record() -> None:
    @dataclasses.dataclass(frozen=True)
    class CachingScheme(SecretScheme):
        cache: dict[str, str] = dataclasses.field(default_factory=dict)

    scheme = CachingScheme("vault", "A vault.", lambda r: "x", "vault:NAME")
    assert scheme.cache == {} and scheme.form == "vault:NAME"
    with pytest.raises(dataclasses.FrozenInstanceError):
        scheme.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Thawed(SecretScheme):
            extra: int = 0


def test_mutable_public_records_stay_mutable_for_subclasses() -> None:
    env = Environment("Test", "https://login.example", "https://graph.example")
    settings = ProviderSettings("p", {}, env, resolve_secret=str)
    settings.read_timeout = 1.0
    assert settings.read_timeout == 1.0
    assert repr(settings) == "ProviderSettings(provider='p', options=[])"  # its own repr wins


def test_records_pickle_and_match() -> None:
    point = Point(3, 4, "p")
    assert pickle.loads(pickle.dumps(point)) == point
    match point:
        case Point(3, y):
            assert y == 4
        case _:
            pytest.fail("no match")


def test_defining_the_public_records_imports_no_dataclasses() -> None:
    """What the module exists for: a sign-in never pays for ``@dataclass``."""
    code = (
        "import sys, entra_auth, entra_auth.plugins, entra_auth.certificates; "
        "print('dataclasses' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
