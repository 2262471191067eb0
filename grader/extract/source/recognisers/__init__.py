"""Recognisers: what a library call or a method call means for the facts of a cell.

Each module registers plain functions by the names of the calls they
recognise (see :mod:`.registry`); :data:`DISPATCH` offers a call to the
recognisers of its name in the order of :data:`MODULES`, then in the order
each module defines them. That order matters only where two recognisers accept
the same call, and is kept so: a pretrained network's name is tried before the
layer vocabulary (which accepts any capitalised name under ``layers.``), and
the layer vocabulary before the other constructors; every call into a
plotting module is a plot unless an earlier recogniser claimed it;
``model.add(layer)`` grows a model before ``s.add(x)`` fills a container.

* :mod:`.pretrained` - Keras applications, torchvision, timm, TF-Hub, presets
* :mod:`.layers` - layers and model constructors of both frameworks
* :mod:`.containers` - lists and dicts of models or histories filled in place
* :mod:`.data` - datasets, subset sizes, augmentation, confusion matrices, accuracy
* :mod:`.keras` - compile, fit, evaluate, predict, optimizers
* :mod:`.freezing` - ``trainable`` and ``requires_grad``
* :mod:`.plots` - plots, prints, displays
* :mod:`.pytorch` - hand-written training and evaluation loops, ``from_pretrained``
* :mod:`.fastai` - fastai learners: ``vision_learner``, ``fine_tune``, ``unfreeze``
* :mod:`.guesses` - calls of functions the notebook does not define, by their names
"""

from __future__ import annotations

from grader.extract.source.recognisers import (
    containers,
    data,
    fastai,
    freezing,
    keras,
    layers,
    plots,
    pretrained,
    pytorch,
)
from grader.extract.source.recognisers.registry import Dispatch

__all__ = ["DISPATCH", "MODULES"]

MODULES = (
    pretrained.recognisers,
    layers.recognisers,
    containers.recognisers,
    data.recognisers,
    keras.recognisers,
    freezing.recognisers,
    plots.recognisers,
    pytorch.recognisers,
    fastai.recognisers,
)
"""The recognisers' modules, in the order a call is offered to them."""

DISPATCH = Dispatch(MODULES)
