"""The source reader: what notebook code cells build, train, evaluate and plot."""

from __future__ import annotations

import time
from textwrap import dedent

import pytest

from grader.extract.facts import ModelDef, SourceFacts
from grader.extract.source import canonical_base, read_source, read_sources, strip_magics


def read(source: str) -> SourceFacts:
    return read_source(3, dedent(source))


def read_all(*sources: str) -> list[SourceFacts]:
    return read_sources([(i, dedent(s)) for i, s in enumerate(sources)])


def model(facts: SourceFacts, var: str) -> ModelDef:
    found = [d for d in facts.model_defs if d.var == var]
    assert found, f"no model {var!r} in {[d.var for d in facts.model_defs]}"
    return found[-1]


# ------------------------------------------------------------------ IPython


def test_magics_are_neutralised_and_lines_kept() -> None:
    source = "%matplotlib inline\n!pip install x\nmodel.summary?\nfiles = !ls\n%time h = m.fit(x, y, epochs=3)"
    stripped = strip_magics(source)
    assert stripped.count("\n") == source.count("\n")
    assert "h = m.fit(x, y, epochs=3)" in stripped
    assert "files = None" in stripped
    facts = read_source(0, source)
    assert facts.parsed
    assert facts.fits[0].line == 5
    assert facts.fits[0].epochs == 3


def test_cell_magics() -> None:
    timed = read("%%time\nhistory = model.fit(x_train, y_train, epochs=4)\n")
    assert timed.fits[0].history_var == "history"
    bash = read("%%bash\nls -la\nmodel.fit(x)\n")
    assert bash.parsed and not bash.fits


@pytest.mark.parametrize(
    "source",
    [
        "",
        "   \n\t",
        "# just a comment",
        "x = " + "(" * 300 + ")" * 300,
        "y = " + "1+" * 20000 + "1",
        "\x00 nul",
        "model.fit(x, y, epochs=2",
        "print 'python 2'",
        "def f(x):\n    return f(x)\nz = f(f(1))",
        "def a(x): return b(x)\ndef b(x): return a(x)\nm = a(1)",
        "class A(A): pass\na = A()",
        "for a, (b, *c) in zip(*d): a.trainable = b\nx, *y = z",
        "lambda: (yield)",
        "await run()\nm.evaluate(x_te, y_te)",
        "import\nfrom . import x\nfrom .. import *",
    ],
)
def test_never_raises(source: str) -> None:
    facts = read_source(0, source)
    assert isinstance(facts, SourceFacts)
    assert read_sources([(0, source), (1, source)])[1].cell == 1


def test_not_python_is_not_parsed() -> None:
    assert not read("model.fit(x, y, epochs=2").parsed
    assert not read("\x00\x00").parsed
    assert read("").parsed


def test_a_bad_line_does_not_lose_the_rest() -> None:
    facts = read(
        """
        def broken(:
            pass
        model = keras.Sequential([layers.Dense(10)])
        history = model.fit(x_train, y_train, epochs=2)
        print 'old python'
        model.evaluate(x_test, y_test)
        """
    )
    assert facts.parsed
    assert model(facts, "model").layers["Dense"] == 1
    assert facts.fits[0].epochs == 2
    assert facts.evaluates[0].on == "test"


# ------------------------------------------------------- lecture (Chollet)


def test_lecture_transfer_then_fine_tuning() -> None:
    setup, frozen, tuned = read_all(
        """
        from tensorflow import keras
        from tensorflow.keras import layers
        data_augmentation = keras.Sequential(
            [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)]
        )
        """,
        """
        conv_base = keras.applications.vgg16.VGG16(weights="imagenet", include_top=False)
        conv_base.trainable = False
        inputs = keras.Input(shape=(180, 180, 3))
        x = data_augmentation(inputs)
        x = keras.applications.vgg16.preprocess_input(x)
        x = conv_base(x)
        x = layers.Flatten()(x)
        x = layers.Dense(256)(x)
        x = layers.Dropout(0.5)(x)
        outputs = layers.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, outputs)
        model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
        callbacks = [keras.callbacks.ModelCheckpoint("feature.keras", save_best_only=True)]
        history = model.fit(train_dataset, epochs=50, validation_data=validation_dataset,
                            callbacks=callbacks)
        """,
        """
        conv_base.trainable = True
        for layer in conv_base.layers[:-4]:
            layer.trainable = False
        model.compile(loss="binary_crossentropy",
                      optimizer=keras.optimizers.RMSprop(learning_rate=1e-5), metrics=["accuracy"])
        history = model.fit(train_dataset, epochs=30, validation_data=validation_dataset)
        """,
    )
    assert setup.augmentation_defined
    base = model(frozen, "conv_base")
    assert (base.base, base.weights, base.base_var) == ("VGG16", "imagenet", "conv_base")
    built = model(frozen, "model")
    assert built.base == "VGG16" and built.base_var == "conv_base"
    assert built.layers["Dense"] == 2 and built.layers["RandomFlip"] == 1
    assert [(c.target, c.value, c.partial) for c in frozen.trainable_changes] == [
        ("conv_base", False, False)
    ]
    fit = frozen.fits[0]
    assert (fit.model_var, fit.history_var, fit.epochs) == ("model", "history", 50)
    assert fit.validation == "val" and fit.callbacks == ["ModelCheckpoint"]
    assert fit.augmentation  # the model itself augments its input
    assert frozen.compiles[0].optimizer == "RMSprop"
    assert [(c.target, c.value, c.partial) for c in tuned.trainable_changes] == [
        ("conv_base", True, False),
        ("conv_base", False, True),
    ]
    assert tuned.compiles[0].learning_rate == pytest.approx(1e-5)


def test_first_edition_set_trainable_loop() -> None:
    facts = read(
        """
        conv_base.trainable = True
        set_trainable = False
        for layer in conv_base.layers:
            if layer.name == 'block5_conv1':
                set_trainable = True
            if set_trainable:
                layer.trainable = True
            else:
                layer.trainable = False
        """
    )
    changes = [(c.target, c.value, c.partial) for c in facts.trainable_changes]
    assert changes == [
        ("conv_base", True, False),
        ("conv_base", True, True),
        ("conv_base", False, True),
    ]


def test_xception_like_blocks_defined_and_called_in_one_cell() -> None:
    facts = read(
        """
        def residual_block(x, filters):
            residual = x
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
            residual = layers.Conv2D(filters, 1, strides=2, padding="same")(residual)
            return layers.add([x, residual])

        def build_xception_like(num_classes=10):
            inputs = keras.Input(shape=(32, 32, 3))
            x = layers.Rescaling(1.0 / 255)(inputs)
            x = layers.Conv2D(32, 5, use_bias=False)(x)
            for size in [32, 64, 128]:
                x = residual_block(x, size)
            x = layers.GlobalAveragePooling2D()(x)
            outputs = layers.Dense(num_classes, activation="softmax")(x)
            return keras.Model(inputs=inputs, outputs=outputs)

        xcep = build_xception_like()
        """
    )
    builder = model(facts, "build_xception_like")
    assert builder.is_builder and builder.residual and builder.separable
    assert not builder.bottleneck
    made = model(facts, "xcep")
    assert made.builder == "build_xception_like" and not made.is_builder
    assert made.residual and made.separable and made.layers["SeparableConv2D"] >= 2
    assert made.framework == "keras"
    assert set(facts.defines_functions) == {"residual_block", "build_xception_like"}


def test_resnet_bottleneck_builder_with_plus_shortcut() -> None:
    facts = read(
        """
        from tensorflow.keras.layers import *
        from tensorflow.keras.models import Model

        def bottleneck(x, f, stride=1):
            shortcut = x
            y = Conv2D(f, (1, 1), strides=stride)(x)
            y = BatchNormalization()(y)
            y = Conv2D(f, (3, 3), padding="same")(y)
            y = Conv2D(4 * f, 1)(y)
            shortcut = Conv2D(4 * f, 1, strides=stride)(shortcut)
            y = y + shortcut
            return Activation("relu")(y)

        def basic(x, f):
            y = Conv2D(f, 3, padding="same")(x)
            y = Conv2D(f, 3, padding="same")(y)
            return Add()([x, y])

        def build_resnet():
            inp = Input((32, 32, 3))
            x = bottleneck(Conv2D(64, 3)(inp), 64)
            return Model(inp, Dense(10)(GlobalAveragePooling2D()(x)))

        def build_basic():
            inp = Input((32, 32, 3))
            x = basic(Conv2D(64, 3)(inp), 64)
            return Model(inp, Dense(10)(Flatten()(x)))
        """
    )
    resnet = model(facts, "build_resnet")
    assert resnet.residual and resnet.bottleneck and not resnet.separable
    basic = model(facts, "build_basic")
    assert basic.residual and not basic.bottleneck


def test_string_concatenation_is_not_a_skip_connection() -> None:
    facts = read(
        """
        def block(X, f, stage, block):
            conv_name_base = 'res' + str(stage) + block + '_branch'
            X = Conv2D(f, (3, 3), name=conv_name_base + '2a')(X)
            return X

        def build():
            inp = Input((32, 32, 3))
            return Model(inp, block(inp, 8, 1, 'a'))
        """
    )
    assert not model(facts, "build").residual


def test_sequential_add_accumulates() -> None:
    facts = read(
        """
        model = models.Sequential()
        model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
        model.add(layers.MaxPooling2D((2, 2)))
        model.add(layers.Conv2D(64, (3, 3), activation='relu'))
        model.add(layers.Flatten())
        model.add(layers.Dense(10))
        """
    )
    built = model(facts, "model")
    assert built.layers == {"Conv2D": 2, "MaxPooling2D": 1, "Flatten": 1, "Dense": 1}
    assert not built.residual


def test_add_in_a_later_cell_updates_the_model() -> None:
    first, _ = read_all(
        "cnn = Sequential()\ncnn.add(Conv2D(8, 3))\n",
        "cnn.add(Flatten())\ncnn.add(Dense(10))\n",
    )
    assert model(first, "cnn").layers == {"Conv2D": 1, "Flatten": 1, "Dense": 1}


def test_layer_aliases_and_module_spellings() -> None:
    facts = read(
        """
        import tensorflow.keras.layers as L
        import keras
        a = tf.keras.Sequential([L.Conv2D(8, 3), L.MaxPool2D(), L.GlobalAvgPool2D()])
        b = keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.Dense(4)])
        """
    )
    assert model(facts, "a").layers == {"Conv2D": 1, "MaxPooling2D": 1, "GlobalAveragePooling2D": 1}
    assert model(facts, "b").layers == {"Conv2D": 1, "Dense": 1}
    assert "keras" in facts.framework_hints


# ------------------------------------------------------------- pretrained


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("MobileNetV2", "MobileNetV2"),
        ("keras.applications.resnet50.ResNet50", "ResNet50"),
        ("ResNet50V2", "ResNet50V2"),
        ("EfficientNetV2B0", "EfficientNetV2B0"),
        ("resnet18", "ResNet18"),
        ("mobilenet_v2", "MobileNetV2"),
        ("mobilenet_v3_small", "MobileNetV3Small"),
        ("efficientnet_b0", "EfficientNetB0"),
        ("efficientnet_v2_s", "EfficientNetV2S"),
        ("vgg16_bn", "VGG16"),
        ("convnext_tiny", "ConvNeXtTiny"),
        ("vit_b_16", "ViTB16"),
        ("tf_efficientnet_b3", "EfficientNetB3"),
        ("mobilenetv2_100", "MobileNetV2"),
        ("resnet50d", "ResNet50"),
        ("convnext_base.fb_in22k", "ConvNeXtBase"),
        ("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5", "MobileNetV2"),
        ("https://tfhub.dev/tensorflow/efficientnet/b0/feature-vector/1", "EfficientNetB0"),
        ("https://tfhub.dev/google/imagenet/resnet_v2_50/feature_vector/5", "ResNet50V2"),
        ("resnet_50_imagenet", "ResNet50"),
        ("microsoft/resnet-50", "ResNet50"),
    ],
)
def test_canonical_base(spelling: str, canonical: str) -> None:
    assert canonical_base(spelling) == canonical


@pytest.mark.parametrize("spelling", ["resnet", "my_block", "preprocess_input", "", "resnet501"])
def test_canonical_base_unknown(spelling: str) -> None:
    assert canonical_base(spelling) is None


def test_pretrained_spellings() -> None:
    facts = read(
        """
        from tensorflow.keras.applications import ResNet50 as R
        import timm, tensorflow_hub as hub
        from torchvision import models
        a = R(include_top=False, input_shape=(32, 32, 3))
        b = tf.keras.applications.MobileNetV2(weights=None, include_top=False)
        c = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
        d = models.efficientnet_b0(pretrained=True)
        e = models.vgg16(weights="IMAGENET1K_V1")
        f = timm.create_model("convnext_tiny", pretrained=True, num_classes=10)
        g = hub.KerasLayer("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5",
                           trainable=False)
        h = tf.keras.Sequential([g, tf.keras.layers.Dense(10)])
        """
    )
    got = {d.var: (d.base, d.weights, d.framework) for d in facts.model_defs}
    assert got["a"] == ("ResNet50", None, "keras")
    assert got["b"] == ("MobileNetV2", "none", "keras")
    assert got["c"] == ("ResNet18", "imagenet", "pytorch")
    assert got["d"] == ("EfficientNetB0", "imagenet", "pytorch")
    assert got["e"] == ("VGG16", "imagenet", "pytorch")
    assert got["f"] == ("ConvNeXtTiny", "imagenet", "pytorch")
    assert got["g"][:2] == ("MobileNetV2", "imagenet")
    assert model(facts, "h").base_var == "g"
    assert [(c.target, c.value) for c in facts.trainable_changes] == [("g", False)]


def test_own_function_named_like_an_application_is_not_pretrained() -> None:
    facts = read(
        """
        def ResNet50(input_shape=(32, 32, 3)):
            x_in = Input(input_shape)
            return Model(x_in, Dense(10)(Flatten()(Conv2D(8, 3)(x_in))))
        model = ResNet50()
        """
    )
    assert model(facts, "model").base is None
    assert model(facts, "model").builder == "ResNet50"


def test_own_model_reused_as_a_base() -> None:
    facts = read_all(
        "model2 = Sequential([Conv2D(8, 3), Flatten(), Dense(10)])\n",
        """
        base_model = model2
        for layer in base_model.layers:
            layer.trainable = False
        new_model = Sequential([base_model, Dense(64), Dense(10)])
        """,
    )[1]
    assert facts.aliases == {"base_model": "model2"}
    built = model(facts, "new_model")
    assert built.base is None and built.base_var == "model2"
    assert [(c.target, c.value, c.partial) for c in facts.trainable_changes] == [
        ("base_model", False, False)
    ]


def test_keras_subclassed_model_with_residual_layer() -> None:
    facts = read(
        """
        class ResBlock(keras.layers.Layer):
            def __init__(self, f):
                super().__init__()
                self.c1 = layers.Conv2D(f, 3, padding="same")
                self.c2 = layers.Conv2D(f, 3, padding="same")
            def call(self, inputs):
                return self.c2(self.c1(inputs)) + inputs

        class MyNet(keras.Model):
            def __init__(self):
                super().__init__()
                self.stem = layers.Conv2D(32, 3)
                self.block = ResBlock(32)
                self.head = layers.Dense(10)
            def call(self, x):
                return self.head(self.block(self.stem(x)))
        net = MyNet()
        """
    )
    assert [d.var for d in facts.model_defs] == ["MyNet", "net"]
    assert model(facts, "net").residual and model(facts, "net").framework == "keras"


# ----------------------------------------------------------------- PyTorch


TORCH_BLOCKS = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)

class SmallResNet(nn.Module):
    def __init__(self, block, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
        self.layer1 = nn.Sequential(block(64, 64), block(64, 64))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        out = self.layer1(F.relu(self.conv1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))

class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(32 * 15 * 15, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))
"""


def test_torch_module_classes() -> None:
    facts = read(TORCH_BLOCKS)
    block = model(facts, "BasicBlock")
    assert block.is_builder and block.residual and block.framework == "pytorch"
    assert block.layers["Conv2D"] == 3  # both branches of the stride test
    cnn = model(facts, "SimpleCNN")
    assert not cnn.residual and cnn.layers["Conv2D"] == 1 and cnn.layers["Dense"] == 1
    assert "pytorch" in facts.framework_hints


def test_torch_training_and_evaluation_loops() -> None:
    _, train, evaluate = read_all(
        TORCH_BLOCKS + "NUM_EPOCHS = 15\n",
        """
        net = SmallResNet(BasicBlock).to(device)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        train_losses, val_accs = [], []
        for epoch in range(NUM_EPOCHS):
            net.train()
            for inputs, labels in train_loader:
                optimizer.zero_grad()
                loss = criterion(net(inputs), labels)
                loss.backward()
                optimizer.step()
            net.eval()
            correct = total = 0
            with torch.no_grad():
                for inputs, labels in val_loader:
                    _, predicted = net(inputs).max(1)
                    correct += (predicted == labels).sum().item()
            val_accs.append(correct / total)
        """,
        """
        net.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = net(images)
                _, predicted = torch.max(outputs.data, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        print(f"Test accuracy: {100 * correct / total:.1f}%")
        plt.plot(train_losses, label="train")
        """,
    )
    built = model(train, "net")
    assert built.builder == "SmallResNet" and built.residual and built.framework == "pytorch"
    assert [(c.model_var, c.optimizer, c.learning_rate) for c in train.compiles] == [
        ("net", "SGD", 0.01)
    ]
    assert len(train.fits) == 1
    fit = train.fits[0]
    assert (fit.model_var, fit.epochs, fit.validation) == ("net", 15, "val")
    assert not train.evaluates  # the validation pass belongs to the training loop
    assert [(e.kind, e.model_var, e.on) for e in evaluate.evaluates] == [
        ("torch_eval", "net", "test")
    ]
    assert evaluate.prints_accuracy
    assert evaluate.plots_history and evaluate.history_vars_plotted == ["train_losses"]


def test_torch_resnet18_fine_tuning() -> None:
    facts = read(
        """
        from torchvision import models
        model = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
        for param in model.parameters():
            param.requires_grad = False
        model.fc = nn.Linear(model.fc.in_features, 10)
        model = model.to(device)
        optimizer = optim.Adam(model.fc.parameters(), lr=1e-3)
        for name, p in model.named_parameters():
            if "layer4" in name:
                p.requires_grad = True
        model.features.requires_grad_(False)
        """
    )
    built = model(facts, "model")
    assert (built.base, built.weights, built.framework) == ("ResNet18", "imagenet", "pytorch")
    assert built.layers["Dense"] == 1
    assert [(c.target, c.value, c.partial) for c in facts.trainable_changes] == [
        ("model", False, False),
        ("model", True, True),
        ("model", False, True),
    ]
    assert facts.compiles[0].model_var == "model"
    assert facts.compiles[0].learning_rate == pytest.approx(1e-3)


def test_freezing_inside_a_module_class_is_reported_where_it_is_made() -> None:
    _, made = read_all(
        """
        class Transfer(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = resnet50(weights=ResNet50_Weights.DEFAULT)
                for p in self.backbone.parameters():
                    p.requires_grad = False
                self.backbone.fc = nn.Linear(2048, 10)
            def forward(self, x):
                return self.backbone(x)
        """,
        "tl = Transfer().to(device)\n",
    )
    assert model(made, "tl").base == "ResNet50"
    assert [(c.target, c.value, c.partial) for c in made.trainable_changes] == [("tl", False, True)]


def test_torch_training_function_called_from_a_later_cell() -> None:
    defined, called = read_all(
        """
        def train(model, loader, epochs=5):
            model.train()
            for epoch in range(epochs):
                for x, y in loader:
                    opt.zero_grad()
                    criterion(model(x), y).backward()
                    opt.step()
        """,
        "train(cnn, train_loader, epochs=8)\n",
    )
    assert not defined.fits
    assert [(f.model_var, f.epochs, f.line) for f in called.fits] == [("cnn", 8, 1)]


# -------------------------------------------------------- loops and groups


def test_loop_over_a_dict_of_models() -> None:
    _, loop, plot = read_all(
        """
        cnn = build_cnn()
        resnet = build_resnet()
        EPOCHS = 12
        """,
        """
        models = {"cnn": cnn, "resnet": resnet}
        histories, results = {}, {}
        for name, m in models.items():
            histories[name] = m.fit(x_train, y_train, epochs=EPOCHS, validation_data=(x_val, y_val))
            results[name] = m.evaluate(x_test, y_test)
        """,
        """
        for name, h in histories.items():
            plt.plot(h.history["val_accuracy"], label=name)
        """,
    )
    assert loop.aliases == {"models['cnn']": "cnn", "models['resnet']": "resnet"}
    fit = loop.fits[0]
    assert (fit.model_var, fit.history_var, fit.epochs) == ("m", "histories[name]", 12)
    assert fit.in_loop and fit.loop_models == ["cnn", "resnet"]
    ev = loop.evaluates[0]
    assert (ev.on, ev.result_var, ev.loop_models) == ("test", "results[name]", ["cnn", "resnet"])
    assert plot.plots_history and plot.history_vars_plotted == ["histories"]


def test_loop_over_a_literal_list_of_models() -> None:
    facts = read(
        """
        for m in [cnn_model, resnet_model]:
            m.fit(x_train, y_train, epochs=3, validation_split=0.1)
        """
    )
    fit = facts.fits[0]
    assert fit.loop_models == ["cnn_model", "resnet_model"] and fit.validation == "split"


def test_models_built_by_a_comprehension_over_names() -> None:
    _, made = read_all(
        """
        def create_model(name):
            if name == "resnet18":
                model = models.resnet18(pretrained=True)
                model.fc = nn.Linear(512, 10)
            elif name == "vgg16":
                model = models.vgg16(pretrained=True)
                model.classifier[6] = nn.Linear(4096, 10)
            return model.to(device)
        """,
        """
        names = ["resnet18", "vgg16"]
        zoo = {n: create_model(n) for n in names}
        for key, m in zoo.items():
            m.fit(x, y, epochs=1)
        """,
    )
    assert [(d.var, d.base) for d in made.model_defs] == [
        ("zoo['resnet18']", "ResNet18"),
        ("zoo['vgg16']", "VGG16"),
    ]
    assert made.fits[0].loop_models == ["zoo['resnet18']", "zoo['vgg16']"]


def test_ensembles() -> None:
    facts = read(
        """
        p1 = cnn.predict(x_test)
        p2 = resnet.predict(x_test)
        avg = (p1 + p2) / 2
        print("ensemble accuracy", accuracy_score(y_test, avg.argmax(axis=1)))
        inp = keras.Input((32, 32, 3))
        joint = keras.Model(inp, layers.Average()([cnn(inp), resnet(inp)]))
        """
    )
    assert model(facts, "avg").ensemble
    assert model(facts, "joint").ensemble and not model(facts, "joint").residual
    scored = [e for e in facts.evaluates if e.kind == "accuracy_score"]
    assert scored[0].model_var == "avg" and scored[0].on == "test"
    assert facts.prints_accuracy


def test_ensemble_by_mean_over_models() -> None:
    _, facts = read_all(
        "cnn = build_cnn()\nres = get_resnet()\n",
        """
        all_models = [cnn, res]
        probs = np.mean([m.predict(x_test) for m in all_models], axis=0)
        acc = (probs.argmax(1) == y_test).mean()
        """,
    )
    assert model(facts, "probs").ensemble
    assert facts.evaluates[-1].model_var == "probs"


# ------------------------------------------------------------- fit details


def test_fit_details() -> None:
    facts = read(
        """
        EPOCHS = 20
        FT = 10
        datagen = ImageDataGenerator(rotation_range=15, horizontal_flip=True)
        plain = ImageDataGenerator(rescale=1. / 255)
        datagen.fit(x_train)
        es = EarlyStopping(patience=3)
        h1 = model.fit(datagen.flow(x_train, y_train), epochs=EPOCHS, callbacks=[es],
                       validation_data=(x_test, y_test))
        h2 = model.fit(plain.flow(x_train, y_train), epochs=EPOCHS + FT,
                       initial_epoch=EPOCHS, validation_data=(X_te, y_te))
        h3 = model.fit(train_ds, epochs=5, validation_data=valid_ds)
        h4 = model.fit_generator(gen, epochs=2, validation_split=0.2)
        """
    )
    assert facts.augmentation_defined
    assert len(facts.fits) == 4  # datagen.fit(x) only computes statistics
    h1, h2, h3, h4 = facts.fits
    assert (h1.epochs, h1.validation, h1.callbacks, h1.augmentation) == (
        20,
        "test",
        ["EarlyStopping"],
        True,
    )
    assert (h2.epochs, h2.initial_epoch, h2.validation, h2.augmentation) == (30, 20, "test", False)
    assert (h3.validation, h4.validation) == ("val", "split")
    assert [f.order for f in facts.fits] == [0, 1, 2, 3]


def test_training_helpers_are_fits() -> None:
    facts = read(
        """
        history = compile_and_train(resnet_model, x_train, y_train, epochs=12)
        train_model(cnn, x_train, y_train, x_val, y_val)
        """
    )
    assert [(f.model_var, f.history_var, f.epochs, f.validation) for f in facts.fits] == [
        ("resnet_model", "history", 12, "none"),
        ("cnn", None, None, "val"),
    ]


# -------------------------------------------------------------- evaluation


def test_evaluations_and_their_data() -> None:
    facts = read(
        """
        test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
        model.evaluate(val_ds)
        train_acc = model.evaluate(x_train, y_train)[1]
        y_pred = np.argmax(model.predict(x_test), axis=1)
        acc = accuracy_score(y_test, y_pred)
        manual = (y_pred == y_test.flatten()).mean()
        """
    )
    got = [(e.kind, e.model_var, e.result_var, e.on) for e in facts.evaluates]
    assert got == [
        ("evaluate", "model", "test_loss,test_acc", "test"),
        ("evaluate", "model", None, "val"),
        ("evaluate", "model", "train_acc", "train"),
        ("predict", "model", "y_pred", "test"),
        ("accuracy_score", "model", "acc", "test"),
        ("accuracy_score", "model", "manual", "test"),
    ]


def test_compile_variants() -> None:
    facts = read_all(
        "LR = 3e-4\nopt = keras.optimizers.Adam(learning_rate=LR)\n",
        """
        a.compile(optimizer=opt, loss="categorical_crossentropy")
        b.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
        c.compile("sgd", "mse")
        d.compile(optimizer=SGD(lr=0.01, momentum=0.9))
        """,
    )[1]
    got = [(c.model_var, c.optimizer, c.learning_rate) for c in facts.compiles]
    assert got == [("a", "Adam", 3e-4), ("b", "Adam", 1e-5), ("c", "SGD", None), ("d", "SGD", 0.01)]


def test_trainable_variants() -> None:
    facts = read(
        """
        model.layers[0].trainable = False
        for layer in base.layers[:100]:
            layer.trainable = False
        for layer in base.layers[-20:]:
            layer.trainable = not isinstance(layer, layers.BatchNormalization)
        for i, layer in enumerate(base_model.layers):
            if i < 50:
                layer.trainable = False
        """
    )
    got = [(c.target, c.value, c.partial) for c in facts.trainable_changes]
    assert got == [
        ("model", False, True),
        ("base", False, True),
        ("base", True, True),
        ("base_model", False, True),
    ]


# -------------------------------------------------------------------- plots


def test_history_plots() -> None:
    facts = read(
        """
        acc = history.history["accuracy"]
        plt.plot(acc, label="train")
        pd.DataFrame(hist_tl.history).plot()
        sns.lineplot(data=h_res.history["val_loss"])
        plot_learning_curves(history_cnn)
        """
    )
    assert facts.plots_history and facts.plots_anything
    assert facts.history_vars_plotted == ["history", "hist_tl", "h_res", "history_cnn"]


def test_histories_kept_in_a_list() -> None:
    facts = read(
        """
        histories = []
        histories.append(model.fit(x=train_x, y=train_y, epochs=7))
        for h in histories:
            plt.plot(h.history["loss"])
        """
    )
    assert facts.fits[0].history_var == "histories"
    assert facts.history_vars_plotted == ["histories"]


def test_images_are_not_history() -> None:
    facts = read("plt.imshow(x_train[0])\nplt.title(class_names[y_train[0]])\n")
    assert facts.plots_anything and not facts.plots_history


def test_plot_helper_from_an_earlier_cell() -> None:
    defined, called = read_all(
        """
        def show_curves(h, title):
            fig, ax = plt.subplots(1, 2)
            ax[0].plot(h.history["loss"])
            ax[1].plot(h.history["val_accuracy"])
        """,
        "show_curves(history_tl, 'transfer')\n",
    )
    assert not defined.plots_history
    assert called.plots_history and called.history_vars_plotted == ["history_tl"]


def test_function_bodies_read_on_their_own() -> None:
    """Read alone, a cell reports what its function bodies do, named by their parameters."""
    facts = read(
        """
        def run(model, x, y, epochs=10):
            model.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy")
            h = model.fit(x, y, epochs=epochs, validation_data=(x_val, y_val))
            plot_history(h)
            cm = confusion_matrix(y_test, model.predict(x_test).argmax(1))
            sns.heatmap(cm)
            return h

        def plot_history(history):
            plt.plot(history.history["loss"])
        """
    )
    fit = facts.fits[0]
    assert (fit.model_var, fit.history_var, fit.epochs, fit.line) == ("model", "h", 10, 4)
    assert facts.compiles[0].model_var == "model"
    assert facts.plots_history and "history" in facts.history_vars_plotted
    assert facts.computes_confusion and facts.shows_confusion
    assert facts.confusion_model_vars == ["model"]
    assert facts.defines_functions == ["run", "plot_history"]


def test_torch_training_function_read_on_its_own() -> None:
    facts = read(
        """
        def train_epoch(net, loader, optimizer):
            net.train()
            for x, y in loader:
                optimizer.zero_grad()
                loss = criterion(net(x), y)
                loss.backward()
                optimizer.step()
        """
    )
    assert [(f.model_var, f.line) for f in facts.fits] == [("net", 4)]


def test_notebook_reading_expands_calls_instead() -> None:
    defined, called = read_all(
        """
        def run(model, x, y, epochs=10):
            h = model.fit(x, y, epochs=epochs, validation_data=(x_val, y_val))
            model.evaluate(x_test, y_test)
            return h
        """,
        "hist = run(cnn, x_train, y_train, epochs=5)\n",
    )
    assert not defined.fits and not defined.evaluates
    fit = called.fits[0]
    assert (fit.model_var, fit.history_var, fit.epochs, fit.line) == ("cnn", "hist", 5, 1)
    assert [(e.model_var, e.on) for e in called.evaluates] == [("cnn", "test")]


def test_builder_from_an_earlier_cell_and_constants() -> None:
    _, made = read_all(
        """
        IMG = 96
        def build_transfer(lr=1e-3):
            base = MobileNetV2(include_top=False, weights="imagenet", input_shape=(IMG, IMG, 3))
            base.trainable = False
            inputs = keras.Input((IMG, IMG, 3))
            x = base(inputs, training=False)
            x = layers.GlobalAveragePooling2D()(x)
            model = keras.Model(inputs, layers.Dense(10)(x))
            model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
            return model
        """,
        "tl = build_transfer(lr=5e-4)\n",
    )
    built = model(made, "tl")
    assert (built.builder, built.base, built.base_var, built.weights) == (
        "build_transfer",
        "MobileNetV2",
        "base",
        "imagenet",
    )
    assert [(c.target, c.value) for c in made.trainable_changes] == [("base", False)]
    assert [(c.model_var, c.learning_rate) for c in made.compiles] == [("tl", 5e-4)]


# ---------------------------------------------------------------- confusion


def test_confusion_matrix_computed_and_shown() -> None:
    facts = read(
        """
        from sklearn.metrics import confusion_matrix
        y_pred = np.argmax(model_tl.predict(x_test), axis=1)
        cm = confusion_matrix(y_test, y_pred)
        sns.heatmap(cm, annot=True, fmt="d")
        """
    )
    assert facts.computes_confusion and facts.shows_confusion
    assert facts.confusion_model_vars == ["model_tl"]


@pytest.mark.parametrize(
    "source",
    [
        "ConfusionMatrixDisplay.from_predictions(y_test, cnn.predict(x_test).argmax(1))",
        "cm = tf.math.confusion_matrix(y_test, y_pred)\nprint(cm)",
        "cm = confusion_matrix(y_test, y_pred)\ncm",
        "disp = ConfusionMatrixDisplay(confusion_matrix(y_true, y_pred))\ndisp.plot()",
        "ct = pd.crosstab(y_true, y_pred)\nct",
        "plt.matshow(confusion_matrix(y_test, p))",
    ],
)
def test_confusion_shown(source: str) -> None:
    facts = read(source)
    assert facts.computes_confusion and facts.shows_confusion


def test_confusion_import_alone_does_not_count() -> None:
    facts = read("from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay\n")
    assert not facts.computes_confusion and not facts.shows_confusion
    computed = read("cm = confusion_matrix(y_test, y_pred)\nn = cm.sum()\n")
    assert computed.computes_confusion and not computed.shows_confusion


# --------------------------------------------------------------------- data


def test_data_facts() -> None:
    facts = read(
        """
        (x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
        class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer',
                       'dog', 'frog', 'horse', 'ship', 'truck']
        N_TRAIN = 2000
        x_val, y_val = x_train[N_TRAIN:N_TRAIN + 1000], y_train[N_TRAIN:N_TRAIN + 1000]
        x_train = x_train[:N_TRAIN]
        x_test = x_test[:1000]
        """
    )
    assert facts.loads_cifar10
    assert facts.class_names is not None and facts.class_names[0] == "airplane"
    assert facts.subset_sizes == {"train": 2000, "val": 1000, "test": 1000}


@pytest.mark.parametrize(
    "source",
    [
        "ds = tfds.load('cifar10', split='train')",
        "train = torchvision.datasets.CIFAR10(root='.', train=True, download=True)",
        "from keras.datasets import cifar10\n(a, b), (c, d) = cifar10.load_data()",
    ],
)
def test_cifar_loaders(source: str) -> None:
    assert read(source).loads_cifar10


def test_subset_of_classes_and_split() -> None:
    facts = read(
        """
        selected = ["cat", "dog", "horse"]
        x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=1000, stratify=y)
        """
    )
    assert facts.class_names == ["cat", "dog", "horse"]
    assert facts.subset_sizes == {"val": 1000}
    assert read("cols = ['loss', 'accuracy']").class_names is None


def test_torchvision_augmentation() -> None:
    facts = read(
        """
        train_tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
        plain_tf = transforms.Compose([transforms.ToTensor()])
        """
    )
    assert facts.augmentation_defined
    assert not read("t = transforms.Compose([transforms.ToTensor()])").augmentation_defined


# ------------------------------------------------------------------- speed


def test_fifty_cells_are_read_quickly() -> None:
    cells = [
        TORCH_BLOCKS,
        "model = keras.Sequential([layers.Conv2D(32, 3), layers.Flatten(), layers.Dense(10)])\n"
        "model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])\n"
        "history = model.fit(x_train, y_train, epochs=10, validation_data=(x_val, y_val))\n",
        "plt.plot(history.history['loss'])\nplt.plot(history.history['val_loss'])\nplt.show()\n",
        "test_loss, test_acc = model.evaluate(x_test, y_test)\nprint(test_acc)\n",
        "cm = confusion_matrix(y_test, model.predict(x_test).argmax(1))\nsns.heatmap(cm)\n",
    ] * 10
    read_sources(enumerate(cells))  # warm caches of imported modules
    start = time.perf_counter()
    read_sources(enumerate(cells))
    elapsed = time.perf_counter() - start
    assert elapsed < 0.25, elapsed  # about 0.01 s on a laptop; generous for slow CI


def test_printed_shapes_are_listed_by_split() -> None:
    facts = read(
        """
        print(x_train.shape, x_val.shape)
        print(f"test: {x_test.shape}", model.output_shape)
        print("labels", y_test.shape, preds.shape)
        """
    )
    assert facts.printed_shapes == ["train", "val", "test", "test", None]


# ------------------------------------------------ shapes from real notebooks (issue 13)


def test_a_validation_loader_built_from_the_test_split_is_the_test_set() -> None:
    facts = read_all(
        """
        valid_dataset = torchvision.datasets.CIFAR10(root='./data', train=False)
        valid_loader = torch.utils.data.DataLoader(valid_dataset, batch_size=64)
        x_val, y_val = x_test / 255.0, y_test
        x_half = x_test[:500]
        """,
        """
        model.fit(x, y, epochs=2, validation_data=(x_val, y_val))
        model.fit(x, y, epochs=2, validation_data=(x_half, y_test[:500]))
        loss, acc = model.evaluate(valid_loader)
        """,
    )[1]
    assert [f.validation for f in facts.fits] == ["test", "test"]
    (ev,) = facts.evaluates
    assert (ev.on, ev.named_val) == ("test", True)


def test_a_part_of_the_test_set_is_not_the_test_set() -> None:
    facts = read_all(
        "x_val, y_val = x_test[:5000], y_test[:5000]\n",
        "model.fit(x, y, epochs=2, validation_data=(x_val, y_val))\n",
    )[1]
    assert facts.fits[0].validation == "val"


def test_a_training_loop_through_a_notebook_function_and_a_library_validation() -> None:
    facts = read_all(
        """
        valid_loader = DataLoader(CIFAR10(root='.', train=False))
        def train_step(model, batch, crit, optimizer):
            loss = crit(model(batch[0]), batch[1])
            loss.backward()
            optimizer.step()
        """,
        """
        for ep in range(10):
            for inputs, targets in train_loader:
                train_step(model, (inputs, targets), crit, optimizer)
            ans.validate(model, crit, valid_loader, stats)
        """,
    )[1]
    (fit,) = facts.fits
    assert (fit.model_var, fit.validation) == ("model", "test")


def test_a_loop_over_a_few_names_is_read_once_per_name() -> None:
    facts = read_all(
        """
        def build(name):
            if name == 'VGG16':
                base = VGG16(weights='imagenet', include_top=False)
            else:
                base = ResNet50(weights='imagenet', include_top=False)
            base.trainable = False
            return keras.Sequential([base, layers.Dense(10)])
        """,
        """
        for model_name in ['VGG16', 'ResNet50']:
            model = build(model_name)
            model.fit(x, y, epochs=2)
        """,
    )[1]
    assert [(d.iteration, d.base) for d in facts.model_defs if d.var == "model"] == [
        ("'VGG16'", "VGG16"),
        ("'ResNet50'", "ResNet50"),
    ]
    assert [f.iteration for f in facts.fits] == ["'VGG16'", "'ResNet50'"]


def test_features_a_pretrained_base_extracts_mark_the_fit_on_them() -> None:
    facts = read_all(
        "conv_base = VGG16(weights='imagenet', include_top=False)\n",
        """
        feats = conv_base.predict(x_train)
        head = keras.Sequential([layers.Dense(256), layers.Dense(1)])
        head.fit(feats, y_train, epochs=3)
        """,
    )[1]
    assert facts.fits[0].features_of == "VGG16"
    assert not facts.evaluates


def test_an_optimizer_over_the_head_only() -> None:
    facts = read("optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)\n")
    assert facts.compiles[0].head_only
    facts = read("optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n")
    assert not facts.compiles[0].head_only


def test_torchvision_without_weights_builds_random_weights() -> None:
    assert model(read("m = models.resnet34()\n"), "m").weights == "none"
    assert model(read("m = models.resnet34(True)\n"), "m").weights == "imagenet"


def test_numbers_typed_into_a_print_and_the_names_it_prints() -> None:
    facts = read(
        """
        print(f'it was 61% now its: {acc} %')
        print(fp, fn, tp, acc)
        ax.set_ylim(0, 1)
        """
    )
    assert facts.typed_accuracies == [0.61]
    assert facts.print_args == [["fp", "fn", "tp", "acc"]]
    assert facts.ends_with_plot


def test_a_function_of_the_students_own_module_trains() -> None:
    facts = read_all(
        "import ans\nconvnet = Convnet()\n",
        """
        for ep in range(3):
            ans.train_pytorch(convnet, crit, train_loader, optimizer, stats)
            ans.validate_pytorch(convnet, crit, test_loader, stats)
        """,
    )[1]
    (fit,) = facts.fits
    assert (fit.model_var, fit.validation, fit.repeats) == ("convnet", "test", True)
