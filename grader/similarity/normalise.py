"""Code cells to rename-insensitive token sequences.

What is kept, what is replaced:

* comments, blank lines, docstrings (a string alone on a statement line) and
  IPython magics / shell lines (``%matplotlib inline``, ``!pip install``) go;
* names a student chooses (variables, functions, classes, parameters) become one
  placeholder, ``V``;
* keywords, operators, built-ins, attribute names (``layers.Conv2D``,
  ``model.fit``), keyword-argument names (``activation=``), names imported from
  libraries and a list of well-known deep-learning API names (``Conv2D`` used
  bare after ``from keras.layers import *``) are kept, so the structure and the
  API calls count; an import alias is replaced by what it names
  (``import tensorflow as tf`` makes ``tf`` read as ``tensorflow``);
* numbers keep their value in a canonical form (``1e-3`` reads as ``0.001``,
  ``3.0`` as ``3``), or all become ``N`` (``numbers=False``: finds copies
  whose hyper-parameters were changed, at the price of more coincidental
  matches between honest students, who mostly differ in their numbers);
  a string that looks like an identifier (``'relu'``, ``'same'``,
  ``'accuracy'``) is kept, other strings become ``S``.

Python's :mod:`tokenize` does the work; a cell it cannot tokenize (an
unfinished statement) is read by a simple regular-expression tokenizer instead.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

__all__ = ["API_NAMES", "imported_names", "normalise_cell", "python_source", "token_text"]

PLACEHOLDER = "V"
NUMBER = "N"
STRING = "S"

# bare names that are library API, not the student's own (kept when imported with *)
API_NAMES: frozenset[str] = frozenset(
    """
    Sequential Model Input InputLayer Conv1D Conv2D Conv3D SeparableConv2D DepthwiseConv2D
    Conv2DTranspose Dense Dropout SpatialDropout2D Flatten MaxPooling2D MaxPool2D
    AveragePooling2D AvgPool2D GlobalAveragePooling2D GlobalMaxPooling2D GlobalAvgPool2D
    BatchNormalization LayerNormalization Activation ReLU LeakyReLU PReLU ELU Softmax Add
    Concatenate Multiply Reshape Lambda ZeroPadding2D Rescaling Resizing Normalization
    RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomCrop
    Xception VGG16 VGG19 ResNet50 ResNet50V2 ResNet101 ResNet152 InceptionV3
    InceptionResNetV2 MobileNet MobileNetV2 MobileNetV3Small MobileNetV3Large DenseNet121
    DenseNet169 DenseNet201 NASNetMobile EfficientNetB0 EfficientNetB1 EfficientNetB2
    EfficientNetB3 EfficientNetV2B0 ConvNeXtTiny preprocess_input Adam AdamW SGD RMSprop
    Adagrad Adadelta Nadam EarlyStopping ModelCheckpoint ReduceLROnPlateau
    ImageDataGenerator to_categorical confusion_matrix classification_report
    ConfusionMatrixDisplay train_test_split accuracy_score keras layers models optimizers
    callbacks applications losses metrics tf np plt pd sns torch nn optim F DataLoader
    TensorDataset
    """.split()  # noqa: SIM905 - a list of names reads better as words
)

_KEEP_BUILTINS: frozenset[str] = frozenset(
    name for name in dir(builtins) if not name.startswith("_")
)
_KEYWORDS: frozenset[str] = frozenset(keyword.kwlist)
_IDENT_STRING = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")
_STRING_PREFIX = re.compile(r"^[rbuRBUfF]*")
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+)?import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE
)
_FALLBACK = re.compile(
    r"""(?P<str>[rbuRBUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n]*"|'[^'\n]*'))"""
    r"|(?P<comment>\#[^\n]*)"
    r"|(?P<num>\d[\w.]*(?:[eE][-+]?\d+)?|\.\d+)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<nl>\n)"
    r"|(?P<op>\*\*=?|//=?|->|:=|[-+*/%@&|^<>=!]=|<<=?|>>=?|[-+*/%@&|^~<>=.,:;()\[\]{}])"
)
_SHELL_CELL_MAGICS = ("%%bash", "%%sh", "%%html", "%%javascript", "%%js", "%%markdown",
                      "%%latex", "%%svg", "%%script", "%%perl", "%%ruby")  # fmt: skip


def python_source(source: str) -> str:
    """The cell's Python: magics and shell escapes blanked (line numbers are kept)."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        if lines[0].lstrip().startswith(_SHELL_CELL_MAGICS):
            return ""
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and "#" not in stripped):
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def imported_names(sources: Iterable[str]) -> dict[str, str]:
    """Names bound by import statements -> the token they read as (aliases: what they name)."""
    names: dict[str, str] = {}
    for src in sources:
        if "import" not in src:
            continue
        for match in _IMPORT.finditer(src):
            module, items = match.group(1), match.group(2)
            items = re.sub(r"#[^\n]*", "", items).strip("()")
            for item in items.split(","):
                parts = item.split()
                if not parts or parts[0] == "*":
                    continue
                target = parts[0]
                alias = parts[2] if len(parts) == 3 and parts[1] == "as" else None
                if module is None:
                    # import a.b.c -> binds a; import a.b as x -> x names a.b (read as b)
                    if alias:
                        names[alias] = target.rsplit(".", 1)[-1]
                    else:
                        head = target.split(".", 1)[0]
                        names[head] = head
                else:
                    names[alias or target] = target
    return names


def normalise_cell(
    source: str, imports: dict[str, str] | None = None, *, numbers: bool = True
) -> list[str]:
    """The normalised tokens of one code cell (see the module's docstring).

    ``numbers``: keep the value of each number in a canonical form (``1e-3``
    and ``0.001`` read the same); ``False`` reads every number as ``N``.
    """
    code = python_source(source)
    if not code.strip():
        return []
    imports = imports or {}
    number = _number if numbers else _any_number
    try:
        return _from_tokenize(code, imports, number)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _from_regex(code, imports, number)


def _any_number(text: str) -> str:
    return NUMBER


@lru_cache(maxsize=8192)
def _number(text: str) -> str:
    try:
        value = ast.literal_eval(text.replace("_", ""))
    except (ValueError, SyntaxError, TypeError, MemoryError):
        return NUMBER
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return NUMBER + repr(value)


def _name(
    token: str, prev: str | None, nxt: str | None, depth: int, imports: dict[str, str]
) -> str:
    if token in _KEYWORDS:
        return token
    if prev == ".":
        return token  # an attribute: model.fit, layers.Conv2D
    if depth > 0 and nxt == "=" and prev in ("(", ","):
        return token  # a keyword argument: activation=
    if token in imports:
        return imports[token]
    if token in API_NAMES or token in _KEEP_BUILTINS:
        return token
    return PLACEHOLDER


def _string(text: str) -> str:
    body = _STRING_PREFIX.sub("", text)
    if text[: len(text) - len(body)].lower().count("f"):
        return STRING
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            inner = body[len(quote) : -len(quote)]
            if _IDENT_STRING.fullmatch(inner):
                return "'" + inner + "'"
            return STRING
    return STRING


class _Params:
    """Whether a name is in the parameter list of a ``def`` (``def f(x, rate=0.3)``)."""

    def __init__(self) -> None:
        self.pending = 0  # 2 after 'def', 1 after its name
        self.depth: int | None = None

    def saw(self, name: str) -> None:
        if name == "def":
            self.pending = 2
        elif self.pending:
            self.pending -= 1

    def opened(self, bracket: str, depth: int) -> None:
        if self.pending == 1 and bracket == "(":
            self.depth = depth
        self.pending = 0

    def closed(self, depth: int) -> None:
        if self.depth == depth:
            self.depth = None

    def inside(self, depth: int) -> bool:
        return self.depth is not None and depth == self.depth


def _from_tokenize(
    code: str, imports: dict[str, str], number: Callable[[str], str] = _number
) -> list[str]:
    raw = [
        t
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER)
    ]
    out: list[str] = []
    depth = 0
    n = len(raw)
    fstring_depth = 0
    fstart = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+
    fend = getattr(tokenize, "FSTRING_END", -1)
    skip_newline = False
    params = _Params()
    for i, tok in enumerate(raw):
        typ, text = tok.type, tok.string
        if skip_newline:
            skip_newline = False
            if typ == tokenize.NEWLINE:
                continue
        if fstring_depth:
            if typ == fstart:
                fstring_depth += 1
            elif typ == fend:
                fstring_depth -= 1
            continue
        if typ == fstart:
            fstring_depth = 1
            out.append(STRING)
            continue
        if typ == tokenize.STRING:
            prev_t = raw[i - 1].type if i else tokenize.NEWLINE
            next_t = raw[i + 1].type if i + 1 < n else tokenize.NEWLINE
            if prev_t in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and next_t in (
                tokenize.NEWLINE,
                tokenize.DEDENT,
            ):
                skip_newline = True
                continue  # a docstring or a bare string statement
            out.append(_string(text))
        elif typ == tokenize.NAME:
            prev = raw[i - 1].string if i else None
            nxt = raw[i + 1].string if i + 1 < n else None
            if params.inside(depth):
                out.append(PLACEHOLDER)  # a parameter of the student's own function
            else:
                out.append(_name(text, prev, nxt, depth, imports))
            params.saw(text)
        elif typ == tokenize.NUMBER:
            out.append(number(text))
        elif typ == tokenize.OP:
            depth = _operator(text, depth, params, out)
        elif typ == tokenize.NEWLINE:
            if out and out[-1] != ";":
                out.append(";")
        elif typ == tokenize.INDENT:
            out.append("{")
        elif typ == tokenize.DEDENT:
            out.append("}")
        # ERRORTOKEN and friends (a stray $ or ?) are dropped
    return out


def _operator(text: str, depth: int, params: _Params, out: list[str]) -> int:
    """Append an operator or bracket to ``out``; the bracket depth after it."""
    if text in "([{":
        depth += 1
        params.opened(text, depth)
    elif text in ")]}":
        params.closed(depth)
        depth = max(0, depth - 1)
        if out and out[-1] == ",":
            out.pop()  # a trailing comma, as formatters add it
    out.append(text)
    return depth


def _from_regex(
    code: str, imports: dict[str, str], number: Callable[[str], str] = _number
) -> list[str]:
    """A forgiving tokenizer for cells :mod:`tokenize` refuses (no INDENT/DEDENT)."""
    pieces: list[tuple[str, str]] = []
    for m in _FALLBACK.finditer(code):
        kind = m.lastgroup or ""
        if kind == "comment":
            continue
        pieces.append((kind, m.group()))
    out: list[str] = []
    depth = 0
    params = _Params()
    words = [p for p in pieces if p[0] != "nl"]
    w = 0  # index of the current piece among the pieces that are not line ends
    for i, (kind, text) in enumerate(pieces):
        if kind != "nl":
            w += 1
        if kind == "str":
            at_start = i == 0 or pieces[i - 1][0] == "nl"
            at_end = i + 1 == len(pieces) or pieces[i + 1][0] == "nl"
            if at_start and at_end:
                continue
            out.append(_string(text))
        elif kind == "name":
            prev = words[w - 2][1] if w >= 2 else None
            nxt = words[w][1] if w < len(words) else None
            if params.inside(depth):
                out.append(PLACEHOLDER)
            else:
                out.append(_name(text, prev, nxt, depth, imports))
            params.saw(text)
        elif kind == "num":
            out.append(number(text))
        elif kind == "nl":
            if depth == 0 and out and out[-1] != ";":
                out.append(";")
        else:
            depth = _operator(text, depth, params, out)
    return out


def token_text(tokens: Sequence[str]) -> str:
    """The tokens as one line (for debugging and tests)."""
    return " ".join(tokens)
