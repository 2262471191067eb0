"""Recognisers of containers filled in place: ``models.append(cnn)``, ``histories.append(h)``.

A list or dict that receives models becomes a container whose members a later
loop iterates over; one that receives a ``fit`` result holds training histories.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from grader.extract.source.recognisers.registry import MethodCall, Recognisers
from grader.extract.source.values import EMPTY, Value, merge
from grader.extract.source.vocabulary import MUTATORS

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["recognisers"]

recognisers = Recognisers()


@recognisers.method(MUTATORS)
def fill_container(r: Reader, call: MethodCall) -> Value | None:
    receiver_node = call.receiver_node
    if not isinstance(receiver_node, ast.Name):
        return None
    name = receiver_node.id
    current = r.lookup(name)
    extra = call.merged
    if any(v.is_fit_result for v in call.args):
        extra = extra.with_(histories=extra.histories | {name})
    grown = merge([current or EMPTY, extra])
    members = list(current.members or ()) if current is not None else []
    for arg, value in zip(call.node.args, call.args, strict=False):
        if value.is_model and isinstance(arg, ast.Name):
            members.append(r.text(arg))
    if members:
        grown = grown.with_(members=tuple(members))
    if name in r.frame.env or r.frame.globals_env is None:
        r.frame.env[name] = grown
    elif r.frame.globals_env is not None:
        r.frame.globals_env[name] = grown
    return EMPTY
