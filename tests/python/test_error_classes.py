"""The Python front classifies errors as the core, C and the CLI do: the same table
(tests/data/error_classes.json) drives tests/c_api.rs for the other fronts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import incluster
from conftest import Server, explicit

TABLE = json.loads((Path(__file__).parent.parent / "data" / "error_classes.json").read_text())


@pytest.mark.parametrize("case", TABLE["cases"],
                         ids=lambda c: str(c.get("path") or f"wait {c['for']}"))
def test_the_same_input_gives_the_same_class(server: Server, case: dict[str, object]) -> None:
    cls = getattr(incluster, str(case["python"]))
    with pytest.raises(incluster.Error) as info:
        if "wait" in case:
            explicit(server).wait(str(case["wait"]), str(case["for"]),
                                  fail_on=case.get("fail_on"), timeout=0)
        else:
            explicit(server).get(str(case["path"]))
    assert type(info.value) is cls


def test_already_exists_is_a_conflict(server: Server) -> None:
    c = explicit(server)
    coll = "/api/v1/namespaces/py-ns/configmaps"
    c.post(coll, {"metadata": {"name": "twice"}})
    with pytest.raises(incluster.AlreadyExists) as info:
        c.post(coll, {"metadata": {"name": "twice"}})
    e = info.value
    assert isinstance(e, incluster.Conflict) and isinstance(e, incluster.ApiError)
    assert (e.status, e.reason) == (409, "AlreadyExists")
    # A conflict of another kind stays a plain Conflict.
    with pytest.raises(incluster.Conflict) as other:
        c.get("/_test/status/409")
    assert type(other.value) is incluster.Conflict
