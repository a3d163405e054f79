"""No code that only the tests use: every store method and every error class has a caller in the
product (daemon/, connectors/, bench/). A method a test needs is written in the test."""

from __future__ import annotations

import inspect
import re

import pytest

from daemon import errors
from daemon.store import Store
from tests.helpers import REPO

PRODUCT = ("daemon", "connectors", "bench")


def _product_text(leave_out: str) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in PRODUCT for p in sorted((REPO / d).rglob("*.py"))
                     if p.relative_to(REPO).as_posix() != leave_out)


def _store_methods() -> list[str]:
    return sorted(n for n, f in vars(Store).items() if inspect.isfunction(f) and not n.startswith("_"))


@pytest.mark.parametrize("name", _store_methods())
def test_every_store_method_has_a_caller_in_the_product(name):
    own = (REPO / "daemon" / "store" / "db.py").read_text(encoding="utf-8")
    used_inside = re.search(rf"self\.{name}\(", own) is not None
    assert used_inside or re.search(rf"\.{name}\(", _product_text("daemon/store/db.py")), (
        f"Store.{name} is used by no product code: remove it, and let its tests use what the product uses")


@pytest.mark.parametrize("name", sorted(n for n, c in vars(errors).items()
                                        if inspect.isclass(c) and issubclass(c, errors.TiekeeperError)
                                        and c.__module__ == errors.__name__))
def test_every_error_class_is_raised_or_caught_in_the_product(name):
    own = (REPO / "daemon" / "errors.py").read_text(encoding="utf-8")
    subclassed = re.search(rf"class \w+\({name}\)", own) is not None
    assert subclassed or re.search(rf"\b{name}\b", _product_text("daemon/errors.py")), (
        f"errors.{name} is never raised or caught: remove it")
