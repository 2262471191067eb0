"""The hostile-notebook corpus: one notebook per threat, built in code, with its expected outcome.

Each :class:`Threat` builds a notebook aimed at a :class:`Targets` layout (the
files and folders a grading machine has next to a run: other students'
submissions, the reference notebooks and bands, the reports, the data store, a
local network service) and says what must come of it:

* ``contained_by``: the protection that stops it (a run whose sandbox does not
  enforce that protection must say so in its report instead);
* ``outcomes``: how the run may end: ``ok`` or the classified failure kinds;
* ``findings``: finding codes the evidence must contain;
* ``reason``: words the failure message must contain (a clear reason).

Every hostile notebook prints :data:`LEAK_MARK` before anything it managed to
read or do that it should not have, so tests can look for it in everything
the run produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = [
    "CORPUS",
    "LEAK_MARK",
    "SECRET",
    "TF_CORPUS",
    "Targets",
    "Threat",
    "honest_notebook",
    "make_targets",
]

LEAK_MARK = "HOSTILE-LEAK"
SECRET = "s3cr3t-reference-solution-7f1d"


@dataclass(frozen=True)
class Targets:
    """What a hostile notebook goes after (absolute paths on the grading machine)."""

    root: Path
    other_submission: Path  # another student's notebook
    reference: Path  # a reference solution
    bands: Path  # reference bands
    reports: Path  # the class's reports folder
    data_labels: Path  # the served test labels in the data store
    port: int  # a TCP service on the host's loopback

    def readable(self) -> list[Path]:
        return [self.other_submission, self.reference, self.bands]


def make_targets(root: Path, data_dir: Path | None, port: int) -> Targets:
    """Lay out the files a grading machine has next to a run (under ``root``)."""
    subs = root / "submissions" / "other_student"
    ref = root / "reference"
    reports = root / "reports"
    for folder in (subs, ref / "bands", reports):
        folder.mkdir(parents=True, exist_ok=True)
    (subs / "hw5.ipynb").write_text(f'{{"secret": "{SECRET}"}}', encoding="utf-8")
    (ref / "solution.ipynb").write_text(f'{{"solution": "{SECRET}"}}', encoding="utf-8")
    (ref / "bands" / "hw5.json").write_text(f'{{"band": "{SECRET}"}}', encoding="utf-8")
    (reports / "index.html").write_text("<html>class dashboard</html>", encoding="utf-8")
    labels = (data_dir / "y_test.npy") if data_dir else (root / "no-data" / "y_test.npy")
    return Targets(
        root=root,
        other_submission=subs / "hw5.ipynb",
        reference=ref / "solution.ipynb",
        bands=ref / "bands" / "hw5.json",
        reports=reports,
        data_labels=labels,
        port=port,
    )


@dataclass(frozen=True)
class Threat:
    name: str
    what: str
    cells: tuple[str, ...]
    contained_by: tuple[str, ...] = ()
    outcomes: frozenset[str] = frozenset({"ok"})  # "ok" or FailureKind values
    findings: frozenset[str] = frozenset()
    reason: tuple[str, ...] = ()  # one of these words appears in the failure message
    needs_tf: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def notebook(self, t: Targets) -> NotebookNode:
        nb = new_notebook()
        nb.cells = [new_markdown_cell(f"# Hostile notebook: {self.what}")] + [
            new_code_cell(_fill(c, t)) for c in self.cells
        ]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        return nb


def _fill(code: str, t: Targets) -> str:
    return (
        code.replace("@MARK@", LEAK_MARK)
        .replace("@OTHER@", str(t.other_submission))
        .replace("@REFERENCE@", str(t.reference))
        .replace("@BANDS@", str(t.bands))
        .replace("@REPORTS@", str(t.reports))
        .replace("@LABELS@", str(t.data_labels))
        .replace("@ROOT@", str(t.root))
        .replace("@PORT@", str(t.port))
    )


_PROBE = """\
import os, glob
own = os.path.dirname(os.getcwd())  # its own run folder: reading that is fine
def try_read(path):
    if os.path.realpath(path).startswith(own + os.sep):
        return
    try:
        with open(path) as fh:
            print('@MARK@ read', path, fh.read()[:200])
    except OSError as exc:
        print('refused', path, type(exc).__name__)
"""

READS = Threat(
    name="reads_other_files",
    what="reads another student's submission, the reference solution and the bands",
    cells=(
        _PROBE,
        "for p in ['@OTHER@', '@REFERENCE@', '@BANDS@']:\n    try_read(p)",
        # look around: sibling runs, the submissions folder, the harness's own output folder
        "for pattern in ['@ROOT@/submissions/*/*', '../../*/*/*', '../../../runs/*/*/*']:\n"
        "    for p in glob.glob(pattern)[:50]:\n"
        "        if os.path.isfile(p):\n"
        "            try_read(p)",
    ),
    contained_by=("read-isolation", "other-runs"),
)

WRITES = Threat(
    name="writes_outside",
    what="writes into the reports, another submission, the reference, the data store, other runs",
    cells=(
        "import os, glob\n"
        "def try_write(path, data=b'hacked'):\n"
        "    try:\n"
        "        with open(path, 'wb') as fh:\n"
        "            fh.write(data)\n"
        "        print('@MARK@ wrote', path)\n"
        "    except OSError as exc:\n"
        "        print('refused', path, type(exc).__name__)",
        "for p in ['@REPORTS@/index.html', '@REPORTS@/hacked.html', '@OTHER@', '@REFERENCE@', "
        "'@BANDS@', '@LABELS@']:\n    try_write(p)",
        # other runs' folders and the harness's own output folder, found from the working folder
        "for p in glob.glob('../../*/*') + glob.glob('../out/*') + glob.glob('../../*/out/*'):\n"
        "    if os.path.isfile(p):\n"
        "        try_write(p)",
    ),
    contained_by=("write-isolation", "other-runs"),
)

NETWORK = Threat(
    name="network",
    what="connects to a service on the host and to the internet",
    cells=(
        "import socket, urllib.request\n"
        "for host, port in [('127.0.0.1', @PORT@), ('8.8.8.8', 53), ('1.1.1.1', 80)]:\n"
        "    try:\n"
        "        s = socket.create_connection((host, port), timeout=3)\n"
        "        s.sendall(b'@MARK@ hello')\n"
        "        print('@MARK@ connected', host, port)\n"
        "    except OSError as exc:\n"
        "        print('refused', host, port, type(exc).__name__)",
        "try:\n"
        "    urllib.request.urlopen('http://example.com', timeout=3)\n"
        "    print('@MARK@ downloaded')\n"
        "except Exception as exc:\n"
        "    print('refused', type(exc).__name__)",
    ),
    contained_by=("network",),
)

FORK_BOMB = Threat(
    name="fork_bomb",
    what="forks without end (every child forks too)",
    cells=(
        "import os, time\n"
        "me = os.getpid()\n"
        "try:\n"
        "    while True:\n"
        "        os.fork()\n"
        "except OSError as exc:\n"
        "    if os.getpid() != me:\n"
        "        while True:\n"
        "            time.sleep(1)\n"
        "    print('fork refused', type(exc).__name__)",
        "print('the kernel survived')",
    ),
    contained_by=("processes", "leftover-processes"),
    outcomes=frozenset({"cell_timeout", "kernel_died", "exception", "limit_exceeded"}),
)

MEMORY_HOG = Threat(
    name="memory_hog",
    what="allocates memory until something stops it",
    cells=("blocks = []\nwhile True:\n    blocks.append(b'x' * (64 << 20))",),
    contained_by=("memory",),
    outcomes=frozenset({"limit_exceeded", "exception", "kernel_died"}),
    reason=("memory", "MemoryError"),
)

DISK_FILLER = Threat(
    name="disk_filler",
    what="fills the disk with many files in its working folder",
    cells=(
        "import os\nblock = b'\\0' * (8 << 20)\ni = 0\n"
        "while True:\n"
        "    with open(f'fill-{i}.bin', 'wb') as fh:\n"
        "        fh.write(block)\n"
        "    i += 1",
    ),
    contained_by=("disk",),
    outcomes=frozenset({"limit_exceeded"}),
    reason=("wrote more than",),
    findings=frozenset({"limit-exceeded"}),
)

BIG_FILE = Threat(
    name="big_file",
    what="writes one file larger than the file-size limit",
    cells=(
        "block = b'\\0' * (8 << 20)\n"
        "with open('big.bin', 'wb') as fh:\n"
        "    while True:\n"
        "        fh.write(block)",
    ),
    contained_by=("file-size",),
    outcomes=frozenset({"limit_exceeded", "exception"}),
    reason=("file", "File too large"),
)

TMP_FILLER = Threat(
    name="tmp_filler",
    what="fills /tmp",
    cells=(
        "import os, tempfile\nblock = b'\\0' * (8 << 20)\ni = 0\n"
        "while True:\n"
        "    with open(os.path.join(tempfile.gettempdir(), f'hostile-fill-{os.getpid()}-{i}'), 'wb') as fh:\n"
        "        fh.write(block)\n"
        "    i += 1",
    ),
    contained_by=("tmp",),
    outcomes=frozenset({"exception", "limit_exceeded"}),
    reason=("No space left", "wrote more than", "file larger", "File too large"),
)

OUTPUT_FLOOD = Threat(
    name="output_flood",
    what="prints without end",
    cells=("line = 'x' * 1000\nwhile True:\n    print(line)",),
    contained_by=("output",),
    outcomes=frozenset({"cell_timeout", "run_timeout", "limit_exceeded"}),
    findings=frozenset({"output-truncated"}),
)

GIANT_OUTPUT = Threat(
    name="giant_output",
    what="prints one enormous string, then more",
    cells=("print('y' * (200 << 20))", "print('after the giant output')"),
    contained_by=("output",),
    outcomes=frozenset({"ok", "limit_exceeded"}),
    findings=frozenset({"output-truncated"}),
)

NEVER_ENDS = Threat(
    name="never_ends",
    what="ignores interrupts and termination and never finishes",
    cells=(
        "import signal\nfor s in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)",
        "while True:\n    pass",
    ),
    contained_by=("wall-time",),
    outcomes=frozenset({"cell_timeout", "run_timeout"}),
    reason=("longer than", "did not finish"),
)

KILLS_ITSELF = Threat(
    name="kills_itself",
    what="kills its own kernel",
    cells=("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",),
    outcomes=frozenset({"kernel_died"}),
    reason=("killed", "stopped"),
)

KILLS_PARENT = Threat(
    name="kills_parent",
    what="kills the process that started its kernel, then its process group",
    cells=(
        "import os, signal, time\n"
        "for target in (os.getppid(),):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError as exc:\n"
        "        print('refused', exc)\n"
        "time.sleep(2)\nprint('still here')",
    ),
    contained_by=("leftover-processes",),
    outcomes=frozenset({"ok", "kernel_died"}),
)

SYMLINKS = Threat(
    name="symlinks",
    what="plants links in its folders pointing outside them (capture records, saved models)",
    cells=(
        "import os, sys, json\n"
        "rec = sys.modules['_grader_capture']._REC\n"
        "cap = rec.dir\n"
        "def plant(target, link):\n"
        "    try:\n"
        "        if os.path.lexists(link):\n"
        "            os.remove(link)\n"
        "        os.symlink(target, link)\n"
        "        print('planted', link, '->', target)\n"
        "    except OSError as exc:\n"
        "        print('refused', link, exc)\n"
        "rec._events.close()\n"
        "plant('@OTHER@', os.path.join(cap, 'events.jsonl'))\n"
        "os.makedirs(os.path.join(cap, 'fits'), exist_ok=True)\n"
        "plant('@REFERENCE@', os.path.join(cap, 'fits', 'f1.json'))\n"
        "os.makedirs(os.path.join(cap, 'verify'), exist_ok=True)\n"
        "plant('@OTHER@', os.path.join(cap, 'verify', 'm-001.keras'))\n"
        "plant('@BANDS@', 'link-to-bands.json')\n"
        "plant('@REPORTS@', 'link-to-reports')\n"
        "plant('/', 'root')",
        # the harness's own output folder, as seen from the capture folder
        "out = os.path.join(os.path.dirname(os.path.dirname(cap)), 'out')\n"
        "for name in ('manifest.json', 'evidence.json', 'run.log', 'capture.json'):\n"
        "    plant(os.path.join('@REPORTS@', 'index.html'), os.path.join(out, name))",
    ),
    contained_by=("write-isolation",),
    findings=frozenset({"capture-rejected"}),
)

OVERWRITES_OUTPUTS = Threat(
    name="overwrites_outputs",
    what="overwrites the executed notebook and rewrites its earlier outputs",
    cells=(
        "from IPython.display import display, update_display\n"
        "display('Test accuracy: 0.1000', display_id='acc')",
        "import os, sys, glob, json\n"
        "cap = sys.modules['_grader_capture']._REC.dir\n"
        "out = os.path.join(os.path.dirname(os.path.dirname(cap)), 'out')\n"
        "for path in glob.glob(os.path.join(out, '*.ipynb')) + glob.glob('../*/*.ipynb'):\n"
        "    try:\n"
        "        with open(path, 'w') as fh:\n"
        "            json.dump({'cells': [], 'note': '@MARK@ replaced'}, fh)\n"
        "        print('@MARK@ overwrote', path)\n"
        "    except OSError as exc:\n"
        "        print('refused', path, exc)",
        "update_display('Test accuracy: 0.9900', display_id='acc')",
    ),
    contained_by=("write-isolation",),
)

CORPUS: tuple[Threat, ...] = (
    READS,
    WRITES,
    NETWORK,
    FORK_BOMB,
    MEMORY_HOG,
    DISK_FILLER,
    BIG_FILE,
    TMP_FILLER,
    OUTPUT_FLOOD,
    GIANT_OUTPUT,
    NEVER_ENDS,
    KILLS_ITSELF,
    KILLS_PARENT,
    SYMLINKS,
    OVERWRITES_OUTPUTS,
)

# ------------------------------------------------------------ forging (TensorFlow)

_TRAIN = """\
import numpy as np
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train, y_train = x_train[:1500] / 255.0, y_train[:1500]
x_test, y_test = x_test[:400] / 255.0, y_test[:400]
model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    keras.layers.Conv2D(8, 3, activation='relu'),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation='softmax'),
], name='small_cnn')
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
history = model.fit(x_train, y_train, epochs=2, batch_size=64, validation_split=0.1, verbose=0)
"""

FORGES_PRELUDE = Threat(
    name="forges_prelude",
    what="monkeypatches the capture prelude so it records 0.99 for a weak model",
    cells=(
        _TRAIN,
        "import sys\n"
        "rec = sys.modules['_grader_capture']._REC\n"
        "real_event = rec.event\n"
        "def fake_event(kind, **fields):\n"
        "    if kind == 'evaluate':\n"
        "        fields['result'] = [0.01, 0.99]\n"
        "        fields['metrics'] = {'loss': 0.01, 'accuracy': 0.99}\n"
        "    return real_event(kind, **fields)\n"
        "rec.event = fake_event",
        "loss, acc = model.evaluate(x_test, y_test, verbose=0)\n"
        "print(f'Test accuracy: {0.99:.4f}')",
    ),
    findings=frozenset({"forged-accuracy"}),
    needs_tf=True,
)

FORGES_CAPTURE = Threat(
    name="forges_capture",
    what="writes a fake capture record claiming 0.99",
    cells=(
        _TRAIN,
        "loss, acc = model.evaluate(x_test, y_test, verbose=0)\nprint('real', acc)",
        "import sys, json, os\n"
        "rec = sys.modules['_grader_capture']._REC\n"
        "lines = open(os.path.join(rec.dir, 'events.jsonl')).read().splitlines()\n"
        "last = [json.loads(l) for l in lines if '\"evaluate\"' in l][-1]\n"
        "last['seq'] = 10**6\n"
        "last['result'] = [0.01, 0.99]\n"
        "last['metrics'] = {'loss': 0.01, 'accuracy': 0.99}\n"
        "with open(os.path.join(rec.dir, 'events.jsonl'), 'a') as fh:\n"
        "    fh.write(json.dumps(last) + '\\n')\n"
        "print(f'Test accuracy: {0.99:.4f}')",
    ),
    findings=frozenset({"forged-accuracy"}),
    needs_tf=True,
)

REPLACES_EVALUATE = Threat(
    name="replaces_evaluate",
    what="replaces Model.evaluate so nothing is captured, and prints 0.99",
    cells=(
        _TRAIN,
        "keras.Model.evaluate = lambda self, *a, **k: [0.01, 0.99]\n"
        "loss, acc = model.evaluate(x_test, y_test, verbose=0)\n"
        "print(f'Test accuracy: {acc:.4f}')",
    ),
    findings=frozenset({"unverified-accuracy"}),
    needs_tf=True,
)

TF_CORPUS: tuple[Threat, ...] = (FORGES_PRELUDE, FORGES_CAPTURE, REPLACES_EVALUATE)


# ------------------------------------------------------------------ honest

_HONEST_CODE = (
    """\
import time
import numpy as np
import matplotlib.pyplot as plt
from tensorflow import keras
from tensorflow.keras import layers
from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay
(x_train_full, y_train_full), (x_test_full, y_test_full) = keras.datasets.cifar10.load_data()
x_train, y_train = x_train_full[:1200] / 255.0, y_train_full[:1200]
x_val, y_val = x_train_full[1200:1500] / 255.0, y_train_full[1200:1500]
x_test, y_test = x_test_full[:400] / 255.0, y_test_full[:400]

def plot_history(h, title):
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    a.plot(h.history['loss'], label='train'); a.plot(h.history['val_loss'], label='validation')
    a.set_title(title + ' loss'); a.legend()
    b.plot(h.history['accuracy'], label='train'); b.plot(h.history['val_accuracy'], label='validation')
    b.set_title(title + ' accuracy'); b.legend()
    plt.show()

def show_cm(model):
    y_pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    ConfusionMatrixDisplay(confusion_matrix(y_test.ravel(), y_pred)).plot()
    plt.show()
""",
    """\
model_cnn = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(16, 3, padding='same', activation='relu'), layers.MaxPooling2D(),
    layers.Conv2D(32, 3, padding='same', activation='relu'), layers.MaxPooling2D(),
    layers.Flatten(), layers.Dense(32, activation='relu'), layers.Dense(10, activation='softmax'),
])
model_cnn.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
h_cnn = model_cnn.fit(x_train, y_train, epochs=3, batch_size=64, validation_data=(x_val, y_val), verbose=2)
plot_history(h_cnn, 'CNN')
loss_cnn, acc_cnn = model_cnn.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (CNN): {acc_cnn:.4f}')
show_cm(model_cnn)
""",
    """\
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(16, 3, padding='same', activation='relu')(inputs)
y = layers.Conv2D(16, 3, padding='same', activation='relu')(x)
x = layers.Add()([x, y])
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model_res = keras.Model(inputs, outputs, name='resnet_like')
model_res.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
h_res = model_res.fit(x_train, y_train, epochs=3, batch_size=64, validation_data=(x_val, y_val), verbose=2)
plot_history(h_res, 'ResNet-like')
loss_res, acc_res = model_res.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (ResNet-like): {acc_res:.4f}')
show_cm(model_res)
""",
    """\
base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights='imagenet')
base.trainable = False
inputs = keras.Input(shape=(32, 32, 3))
x = layers.Rescaling(2.0, offset=-1.0)(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model_tl = keras.Model(inputs, outputs, name='mobilenet_transfer')
model_tl.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
h_tl = model_tl.fit(x_train, y_train, epochs=3, batch_size=64, validation_data=(x_val, y_val), verbose=2)
plot_history(h_tl, 'MobileNetV2 transfer')
loss_tl, acc_tl = model_tl.evaluate(x_test, y_test, verbose=0)
print(f'Test accuracy (MobileNetV2): {acc_tl:.4f}')
show_cm(model_tl)
""",
)

_HONEST_SUMMARY = """\
## Summary

We compared three models: a simple CNN trained from scratch, a ResNet-like custom CNN with a
residual connection, and a pretrained MobileNetV2 used for transfer learning. The pretrained
model generalizes best because its features were learned on ImageNet and it overfits the
least; the simple CNN trains fastest, the transfer model is the slowest to train.
"""


def honest_notebook() -> NotebookNode:
    """A small honest three-model notebook (scratch CNN, residual CNN, frozen MobileNetV2)."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell("# Homework 5")]
    nb.cells += [new_code_cell(c) for c in _HONEST_CODE]
    nb.cells.append(new_markdown_cell(_HONEST_SUMMARY))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb
