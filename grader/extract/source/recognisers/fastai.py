"""Recognisers of fastai learners: ``vision_learner(dls, resnet18)`` and its training calls.

A fastai learner wraps a pretrained network whose body starts frozen:
``learn.fit_one_cycle(n)`` then trains the new head only, ``learn.unfreeze()``
opens the body, and ``learn.fine_tune(n)`` does both in one call (an epoch
with the body frozen, then ``n`` with it trained), reported as two training
calls that say which stage they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.extract.kinds import canonical_base
from grader.extract.source.recognisers.pretrained import base_value
from grader.extract.source.recognisers.registry import FunctionCall, MethodCall, Recognisers
from grader.extract.source.values import EMPTY, Value

if TYPE_CHECKING:
    from grader.extract.source.reader import Reader

__all__ = ["recognisers"]

recognisers = Recognisers()


@recognisers.function("cnn_learner", "vision_learner", "unet_learner")
def learner(r: Reader, call: FunctionCall) -> Value | None:
    node = call.node
    arch = node.args[1] if len(node.args) > 1 else call.keywords.get("arch")
    if arch is None:
        return None
    found = canonical_base(r.text(arch).rsplit(".", 1)[-1].rstrip("()"))
    if found is None:
        return None
    pretrained = r.const(call.keywords.get("pretrained"))
    weights = "none" if pretrained is False else "imagenet"
    return base_value(r, found, weights, "pytorch").with_(type_name="Learner")


def _is_learner(call: MethodCall) -> bool:
    return call.receiver.type_name == "Learner" or (
        call.receiver.base is not None and call.receiver.framework == "pytorch"
    )


@recognisers.method("fine_tune")
def fine_tune(r: Reader, call: MethodCall) -> Value | None:
    if not _is_learner(call):
        return None
    target = r.text(call.receiver_node)
    node = call.node
    epochs = r.int_const(node.args[0]) if node.args else r.int_const(call.keywords.get("epochs"))
    freeze_epochs = r.int_const(call.keywords.get("freeze_epochs"))
    for frozen, n in ((True, freeze_epochs or 1), (False, epochs)):
        fit = r.fit_fact(
            model_var=target,
            history_var=None,
            epochs=n,
            validation="val",
            augmentation=False,
        )
        fit.frozen = frozen
    r.framework_hint("pytorch")
    return EMPTY


@recognisers.method("fit_one_cycle", "fit_flat_cos", "fit_sgdr")
def fit_one_cycle(r: Reader, call: MethodCall) -> Value | None:
    if not _is_learner(call):
        return None
    node = call.node
    epochs = r.int_const(node.args[0]) if node.args else r.int_const(call.keywords.get("n_epoch"))
    r.fit_fact(
        model_var=r.text(call.receiver_node),
        history_var=None,
        epochs=epochs,
        validation="val",
        augmentation=False,
    )
    r.framework_hint("pytorch")
    return EMPTY


@recognisers.method("unfreeze", "freeze")
def unfreeze(r: Reader, call: MethodCall) -> Value | None:
    if not _is_learner(call):
        return None
    r.trainable_fact(r.text(call.receiver_node), call.name == "unfreeze", False)
    return EMPTY
