"""Names that identify what notebook code builds: pretrained bases and layer vocabularies.

:func:`canonical_base` maps any spelling of a pretrained network (a Keras
application class, a torchvision or timm model name, a TF-Hub / Kaggle URL, a
Keras-Hub preset) to one canonical name such as ``"MobileNetV2"``.
:func:`canonical_layer` maps Keras and PyTorch layer names to one vocabulary
(the Keras spelling), so that ``nn.Conv2d`` and ``layers.Conv2D`` count alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grader.i18n import N_, _

__all__ = [
    "AUGMENTATION_LAYERS",
    "CONV_LAYERS",
    "KERAS_APPLICATIONS",
    "TORCHVISION_MODELS",
    "InputContract",
    "canonical_base",
    "canonical_layer",
    "input_contract",
]

# ------------------------------------------------------------------ pretrained


def _keras_names() -> frozenset[str]:
    names = {
        "Xception",
        "VGG16",
        "VGG19",
        "ResNet50",
        "ResNet101",
        "ResNet152",
        "ResNet50V2",
        "ResNet101V2",
        "ResNet152V2",
        "InceptionV3",
        "InceptionResNetV2",
        "MobileNet",
        "MobileNetV2",
        "MobileNetV3Small",
        "MobileNetV3Large",
        "DenseNet121",
        "DenseNet169",
        "DenseNet201",
        "NASNetMobile",
        "NASNetLarge",
        "EfficientNetV2S",
        "EfficientNetV2M",
        "EfficientNetV2L",
        "ConvNeXtTiny",
        "ConvNeXtSmall",
        "ConvNeXtBase",
        "ConvNeXtLarge",
        "ConvNeXtXLarge",
        "ResNetRS50",
        "ResNetRS101",
        "ResNetRS152",
        "ResNetRS200",
        "ResNetRS270",
        "ResNetRS350",
        "ResNetRS420",
    }
    names.update(f"EfficientNetB{i}" for i in range(8))
    names.update(f"EfficientNetV2B{i}" for i in range(4))
    for size in (
        "002",
        "004",
        "006",
        "008",
        "016",
        "032",
        "040",
        "064",
        "080",
        "120",
        "160",
        "320",
    ):
        names.add(f"RegNetX{size}")
        names.add(f"RegNetY{size}")
    return frozenset(names)


#: Class names of ``keras.applications`` (exact spelling).
KERAS_APPLICATIONS: frozenset[str] = _keras_names()


def _torchvision_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for depth in ("18", "34", "50", "101", "152"):
        out[f"resnet{depth}"] = f"ResNet{depth}"
    for depth in ("11", "13", "16", "19"):
        out[f"vgg{depth}"] = f"VGG{depth}"
        out[f"vgg{depth}_bn"] = f"VGG{depth}"
    for depth in ("121", "161", "169", "201"):
        out[f"densenet{depth}"] = f"DenseNet{depth}"
    for i in range(8):
        out[f"efficientnet_b{i}"] = f"EfficientNetB{i}"
    for size in ("s", "m", "l"):
        out[f"efficientnet_v2_{size}"] = f"EfficientNetV2{size.upper()}"
    for size in ("tiny", "small", "base", "large"):
        out[f"convnext_{size}"] = f"ConvNeXt{size.capitalize()}"
    for arch in ("b_16", "b_32", "l_16", "l_32", "h_14"):
        out[f"vit_{arch}"] = "ViT" + arch.replace("_", "").upper()
    for arch in ("t", "s", "b"):
        out[f"swin_{arch}"] = f"Swin{arch.upper()}"
        out[f"swin_v2_{arch}"] = f"SwinV2{arch.upper()}"
    out.update(
        {
            "alexnet": "AlexNet",
            "googlenet": "GoogLeNet",
            "inception_v3": "InceptionV3",
            "mobilenet_v2": "MobileNetV2",
            "mobilenet_v3_small": "MobileNetV3Small",
            "mobilenet_v3_large": "MobileNetV3Large",
            "resnext50_32x4d": "ResNeXt50",
            "resnext101_32x8d": "ResNeXt101",
            "resnext101_64x4d": "ResNeXt101",
            "wide_resnet50_2": "WideResNet50",
            "wide_resnet101_2": "WideResNet101",
            "squeezenet1_0": "SqueezeNet",
            "squeezenet1_1": "SqueezeNet",
            "shufflenet_v2_x0_5": "ShuffleNetV2",
            "shufflenet_v2_x1_0": "ShuffleNetV2",
            "shufflenet_v2_x1_5": "ShuffleNetV2",
            "shufflenet_v2_x2_0": "ShuffleNetV2",
            "mnasnet0_5": "MNASNet",
            "mnasnet0_75": "MNASNet",
            "mnasnet1_0": "MNASNet",
            "mnasnet1_3": "MNASNet",
            "maxvit_t": "MaxViTT",
        }
    )
    return out


#: Model-builder functions of ``torchvision.models`` -> canonical name.
TORCHVISION_MODELS: dict[str, str] = _torchvision_names()


# ------------------------------------------------------ what a base expects as input


@dataclass(frozen=True)
class InputContract:
    """The pixel values a Keras application's pretrained weights were trained on.

    ``mode`` is the ``preprocess_input`` mode of Keras: ``tf`` (pixels scaled to
    [-1, 1]), ``caffe`` (BGR pixels in [0, 255] minus the ImageNet means),
    ``torch`` (pixels in [0, 1] standardised with the ImageNet mean and std) or
    ``raw`` (pixels in [0, 255]: the model rescales them itself).
    """

    mode: str
    expects: str

    def mismatch(self, low: float, high: float) -> str | None:
        """What is wrong with inputs spanning ``[low, high]``, or None when they fit.

        The limits are the documented input ranges of each mode, read broadly:
        only inputs on a clearly different scale are reported.
        """
        raw = high > 20.0  # pixel values, not a scaled image
        unit = low >= -0.05 and high <= 1.05  # scaled to [0, 1]
        if self.mode == "tf":
            if raw:
                return _("raw pixel values (about 0 to 255)")
            if unit:
                return _("pixels scaled to [0, 1]")
        elif self.mode == "caffe":
            if high <= 2.0:
                return _small_range(unit)
            if raw and low >= -0.05:
                return _("raw pixels without the ImageNet mean subtracted (and in RGB order)")
        elif self.mode == "torch":
            if raw:
                return _("raw pixel values (about 0 to 255)")
            if unit:
                return _("pixels scaled to [0, 1] but not standardised")
        elif self.mode == "raw" and high <= 2.0:
            return _small_range(unit)
        return None


def _small_range(unit: bool) -> str:
    return (
        _("pixels scaled to a small range ([0, 1])")
        if unit
        else _("pixels scaled to a small range")
    )


def _contract_mode(base: str) -> str | None:
    if base.startswith(("EfficientNet", "ConvNeXt", "MobileNetV3", "RegNet", "ResNetRS")):
        return "raw"
    if base in ("VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152"):
        return "caffe"
    if base.startswith("DenseNet"):
        return "torch"
    if base.startswith(("MobileNet", "Xception", "Inception", "NASNet")) or (
        base.startswith("ResNet") and base.endswith("V2")
    ):
        return "tf"
    return None


# what each mode expects, in words (translated when a contract is made: see input_contract)
_EXPECTS = {
    "tf": N_(
        "pixels scaled to [-1, 1] ({module}.preprocess_input, or layers.Rescaling(1/127.5, "
        "offset=-1) on raw pixels)"
    ),
    "caffe": N_(
        "BGR pixels in [0, 255] minus the ImageNet means ({module}.preprocess_input on raw pixels)"
    ),
    "torch": N_(
        "pixels in [0, 1] standardised with the ImageNet mean and std "
        "({module}.preprocess_input on raw pixels)"
    ),
    "raw": N_("pixels in [0, 255] ({name} rescales them inside the model)"),
}

_MODULES = {
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "Xception": "xception",
    "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2",
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "ResNet50": "resnet50",
}


def input_contract(base: str | None) -> InputContract | None:
    """What a Keras application (canonical name, e.g. ``"MobileNetV2"``) expects as input."""
    if not base:
        return None
    mode = _contract_mode(base)
    if mode is None:
        return None
    module = _MODULES.get(base)
    if module is None:
        if base.startswith("ResNet") and base.endswith("V2"):
            module = "resnet_v2"
        elif base.startswith("ResNet"):
            module = "resnet"
        elif base.startswith("DenseNet"):
            module = "densenet"
        elif base.startswith("NASNet"):
            module = "nasnet"
        else:
            module = base.lower()
    name = "EfficientNet" if base.startswith("EfficientNet") else base
    return InputContract(mode=mode, expects=_(_EXPECTS[mode]).format(module=module, name=name))


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@lru_cache(maxsize=1)
def _prefix_table() -> tuple[tuple[str, str], ...]:
    """(normalised key, canonical) pairs, longest key first."""
    table: dict[str, str] = {}
    for name in KERAS_APPLICATIONS:
        table[_key(name)] = name
    for name, canon in TORCHVISION_MODELS.items():
        table.setdefault(_key(name), canon)
    table.update(
        {
            "mobilenetv1": "MobileNet",
            "inceptionv4": "InceptionV4",
            "inceptionresnetv2": "InceptionResNetV2",
            "vitbasepatch16": "ViTB16",
            "vitbasepatch32": "ViTB32",
            "vitsmallpatch16": "ViTS16",
            "vitlargepatch16": "ViTL16",
            "efficientnetv2b0": "EfficientNetV2B0",
            "resnetv250": "ResNet50V2",
            "resnetv2101": "ResNet101V2",
            "resnetv2152": "ResNet152V2",
        }
    )
    # Keras-Hub / TF-Hub spell depth after an underscore: resnet_50, resnet_v2_50.
    for depth in ("18", "34", "50", "101", "152"):
        table.setdefault(f"resnet{depth}", f"ResNet{depth}")
    return tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))


_TIMM_PREFIXES = ("tf_", "tv_", "torchvision_", "timm_", "keras_", "hf_", "hf-hub:", "timm/")


def _match(token: str) -> str | None:
    if not token:
        return None
    for key, canon in _prefix_table():
        if token.startswith(key):
            rest = token[len(key) :]
            # "resnet50" must not be read from "resnet501"; a tail of letters
            # ("d", "bn", "imagenet", "model") or a width like "100" is fine.
            if key[-1].isdigit() and rest[:1].isdigit() and not re.fullmatch(r"\d{3}\w*", rest):
                continue
            return canon
    return None


@lru_cache(maxsize=2048)
def canonical_base(name: str) -> str | None:
    """The canonical name of a pretrained network, from any spelling of it.

    Accepts Keras class names (``MobileNetV2``), dotted paths
    (``keras.applications.resnet50.ResNet50``), torchvision and timm model
    names (``resnet18``, ``mobilenet_v3_small``, ``tf_efficientnet_b0``,
    ``mobilenetv2_100``), Keras-Hub presets (``resnet_50_imagenet``) and
    TF-Hub / Kaggle URLs. Returns ``None`` for anything else.
    """
    if not isinstance(name, str):
        return None
    text = name.strip().strip("'\"")
    if not text or len(text) > 400:
        return None
    if "/" in text:
        # A URL or hub handle: try each path segment and adjacent pairs
        # (".../efficientnet/b0/feature-vector").
        segments = [s for s in re.split(r"[/?#]", text) if s]
        segments = [s for s in segments if "." not in s or not s.endswith((".com", ".dev", ".org"))]
        keys = [_key(s) for s in segments]
        for i, key in enumerate(keys):
            pair = key + keys[i + 1] if i + 1 < len(keys) else ""
            found = _match(pair) or _match(key)
            if found:
                return found
        return None
    last = text.rsplit(".", 1)[-1] if "." in text and not text[0].isdigit() else text
    lowered = last.lower()
    for prefix in _TIMM_PREFIXES:
        if lowered.startswith(prefix):
            last = last[len(prefix) :]
            break
    if last in KERAS_APPLICATIONS:
        return last
    if last in TORCHVISION_MODELS:
        return TORCHVISION_MODELS[last]
    found = _match(_key(last))
    if found is None and "." in text:
        # timm tags: "convnext_base.fb_in22k"
        found = _match(_key(text.split(".", 1)[0]))
    return found


# ---------------------------------------------------------------------- layers

_TORCH_TO_KERAS: dict[str, str] = {
    "Conv1d": "Conv1D",
    "Conv2d": "Conv2D",
    "Conv3d": "Conv3D",
    "LazyConv2d": "Conv2D",
    "ConvTranspose2d": "Conv2DTranspose",
    "Linear": "Dense",
    "LazyLinear": "Dense",
    "BatchNorm1d": "BatchNormalization",
    "BatchNorm2d": "BatchNormalization",
    "BatchNorm3d": "BatchNormalization",
    "LayerNorm": "LayerNormalization",
    "GroupNorm": "GroupNormalization",
    "InstanceNorm2d": "InstanceNormalization",
    "MaxPool2d": "MaxPooling2D",
    "MaxPool1d": "MaxPooling1D",
    "AvgPool2d": "AveragePooling2D",
    "AdaptiveAvgPool2d": "GlobalAveragePooling2D",
    "AdaptiveMaxPool2d": "GlobalMaxPooling2D",
    "Dropout2d": "SpatialDropout2D",
    "ReLU6": "ReLU",
    "SiLU": "Swish",
    "Hardswish": "HardSwish",
    "Upsample": "UpSampling2D",
    "ZeroPad2d": "ZeroPadding2D",
    "Unflatten": "Reshape",
}

_KERAS_ALIASES: dict[str, str] = {
    "MaxPool2D": "MaxPooling2D",
    "MaxPool1D": "MaxPooling1D",
    "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "Convolution2D": "Conv2D",
    "SeparableConvolution2D": "SeparableConv2D",
    "add": "Add",
    "concatenate": "Concatenate",
    "average": "Average",
    "multiply": "Multiply",
    "subtract": "Subtract",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "InputLayer": "Input",
}

#: Keras preprocessing layers that augment images (a layer of the model and an augmentation).
_KERAS_AUGMENTATION = frozenset(
    {
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomCrop",
        "RandomTranslation",
        "RandomContrast",
        "RandomBrightness",
        "RandomHeight",
        "RandomWidth",
    }
)

_KERAS_LAYERS = _KERAS_AUGMENTATION | frozenset(
    {
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv2DTranspose",
        "SeparableConv1D",
        "SeparableConv2D",
        "DepthwiseConv2D",
        "Dense",
        "Flatten",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "Add",
        "Concatenate",
        "Average",
        "Maximum",
        "Minimum",
        "Multiply",
        "Subtract",
        "Input",
        "Rescaling",
        "Normalization",
        "Resizing",
        "CenterCrop",
        "ZeroPadding2D",
        "Cropping2D",
        "UpSampling2D",
        "Reshape",
        "Permute",
        "Lambda",
        "Embedding",
        "MultiHeadAttention",
        "Attention",
        "Identity",
        "GELU",
        "Sigmoid",
        "Tanh",
        "Swish",
        "HardSwish",
        "Mish",
    }
)

_TORCH_SAME = frozenset(
    {
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "GELU",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "Dropout",
        "Flatten",
        "Identity",
        "Embedding",
        "MultiheadAttention",
        "Mish",
    }
)

#: Layer names (canonical) that are convolutions.
CONV_LAYERS = frozenset(
    {"Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D"}
)

#: Layer / transform names (canonical and torchvision) that augment images.
AUGMENTATION_LAYERS = _KERAS_AUGMENTATION | frozenset(
    {
        "RandAugment",
        "AugMix",
        "AutoAugment",
        "TrivialAugmentWide",
        "RandomHorizontalFlip",
        "RandomVerticalFlip",
        "RandomResizedCrop",
        "RandomAffine",
        "RandomPerspective",
        "RandomErasing",
        "RandomGrayscale",
        "ColorJitter",
        "RandomChoice",
        "RandomApply",
        "RandomShear",
        "RandomColorJitter",
        "RandomCutout",
        "CutMix",
        "MixUp",
        "HorizontalFlip",
        "ShiftScaleRotate",
    }
)

_NOT_LAYERS = frozenset(
    {
        "Module",
        "ModuleList",
        "ModuleDict",
        "Sequential",
        "Parameter",
        "ParameterList",
        "Model",
        "Layer",
        "DataParallel",
        "Functional",
        "Compose",
        "ToTensor",
        "Normalize",
        "Resize",
        "ToPILImage",
        "InputSpec",
    }
)


def canonical_layer(name: str, framework_prefix: str = "") -> str | None:
    """The canonical (Keras-spelled) layer name for ``name``, or ``None`` if not a layer.

    ``framework_prefix`` is the dotted text before the name (``"nn"``,
    ``"layers"``, ``"tf.keras.layers"``, ``""``); with a layer-module prefix an
    unknown capitalised name (a custom or rarer layer) still counts, under its
    own spelling.
    """
    if not name:
        return None
    if name in _KERAS_LAYERS:
        return name
    if name in _KERAS_ALIASES:
        # Lower-case merge functions only count as layers with a layer-module
        # prefix or bare (imported from keras.layers).
        if name[0].islower() and framework_prefix not in _MERGE_PREFIXES:
            return None
        return _KERAS_ALIASES[name]
    if name in _TORCH_TO_KERAS:
        return _TORCH_TO_KERAS[name]
    if name in _TORCH_SAME:
        return "MultiHeadAttention" if name == "MultiheadAttention" else name
    if name in AUGMENTATION_LAYERS:
        return name
    root = framework_prefix.rsplit(".", 1)[-1]
    if (
        root in _LAYER_MODULES
        and name[:1].isupper()
        and name not in _NOT_LAYERS
        and not name.endswith(("Loss", "Weights", "Error"))
    ):
        return name
    return None


_LAYER_MODULES = frozenset({"layers", "L", "nn", "kl", "KL", "tfl", "klayers", "Layers"})
_MERGE_PREFIXES = frozenset(
    {
        "",
        "layers",
        "L",
        "kl",
        "KL",
        "tfl",
        "keras.layers",
        "tf.keras.layers",
        "tensorflow.keras.layers",
        "keras.layers.merge",
    }
)
