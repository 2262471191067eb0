"""The written discussion: markdown that compares results, in English, Czech and a few others.

Keyword reading of prose is a hint, not a judgement: the rubric turns gaps it
finds into "needs instructor review", never into a lost point by itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from grader.evidence import Discussion

__all__ = ["MarkdownCell", "QuotedNumber", "heading_text", "quoted_accuracies", "read_discussion"]


@dataclass
class MarkdownCell:
    cell: int
    text: str


@dataclass
class QuotedNumber:
    cell: int
    value: float  # fraction
    sentence: str


def _fold(text: str) -> str:
    """Lower-case and strip accents: 'Přesnost' -> 'presnost'."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_HTML_TAG = re.compile(r"<[^>]+>")
_IMG = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

# stems, matched against accent-folded lower-case words (prefix match)
_MODEL_WORDS = (
    "cnn",
    "model",
    "scratch",
    "baseline",
    "bipyramid",
    "resnet",
    "xception",
    "mobilenet",
    "efficientnet",
    "vgg",
    "inception",
    "densenet",
    "transfer",
    "pretrain",
    "pre-train",
    "fine-tun",
    "finetun",
    "residual",
    "separab",
    "custom",
    "modelu",
    "modely",
    "modelem",
    "predtrenovan",
    "preducen",
    "vlastni",
    "zaklad",
    "prenos",
    "sit",
    "site",
    "siti",
    "netz",
    "modele",
    "modelo",
    "reseau",
)
_COMPARE_WORDS = (
    "better",
    "best",
    "worse",
    "worst",
    "higher",
    "highest",
    "lower",
    "lowest",
    "outperform",
    "compared",
    "comparison",
    "compare",
    "than",
    "while",
    "whereas",
    "versus",
    "vs",
    "lepsi",
    "nejlepsi",
    "horsi",
    "nejhorsi",
    "vyssi",
    "nejvyssi",
    "nizsi",
    "nejnizsi",
    "srovnani",
    "porovnani",
    "porovn",
    "nez",
    "oproti",
    "zatimco",
    "prekonal",
    "besser",
    "beste",
    "schlechter",
    "mejor",
    "peor",
    "meilleur",
    "pire",
    "lepszy",
    "najlepszy",
)
_GENERALISATION_WORDS = (
    "generaliz",
    "generalis",
    "overfit",
    "over-fit",
    "underfit",
    "gap",
    "validation loss",
    "val_loss",
    "memoriz",
    "regulari",
    "preucen",
    "pretrenovan",
    "generalizuj",
    "generalizac",
    "zobecn",
    "validacni",
    "uberanpass",
    "sobreajust",
    "surapprentissage",
    "przeuczen",
)
_TIME_WORDS = (
    "training time",
    "train time",
    "time",
    "seconds",
    "second",
    "minutes",
    "minute",
    "faster",
    "slower",
    "fastest",
    "slowest",
    "quick",
    "speed",
    "per epoch",
    "duration",
    "took",
    "cas",
    "casu",
    "doba",
    "dobu",
    "rychl",
    "pomal",
    "sekund",
    "minut",
    "trval",
    "trva",
    "zeit",
    "schneller",
    "langsamer",
    "tiempo",
    "rapido",
    "lento",
    "temps",
    "rapide",
    "czas",
)
_VARIANT_WORDS = (
    "fine-tun",
    "finetun",
    "fine tun",
    "unfreez",
    "unfroz",
    "doladen",
    "doladi",
    "rozmraz",
    "odmraz",
    "second base",
    "another base",
    "both",
    "variant",
    "varianta",
    "varianty",
    "oba",
    "obe",
    "dalsi",
    "several",
    "multiple",
    "vice",
)
_BEST_WORDS = (
    "best",
    "nejlepsi",
    "outperform",
    "highest",
    "nejvyssi",
    "winner",
    "beste",
    "mejor",
    "meilleur",
)
_SUMMARY_HEADINGS = (
    "summary",
    "conclusion",
    "discussion",
    "observations",
    "comparison",
    "results",
    "findings",
    "takeaway",
    "shrnuti",
    "zaver",
    "diskuze",
    "diskuse",
    "porovnani",
    "srovnani",
    "vysledky",
    "pozorovani",
    "zhodnoceni",
    "fazit",
    "zusammenfassung",
    "conclusiones",
    "resumen",
)
_CS_MARKERS = ("ě", "ř", "ů", "š", "č", "ž", "ý")
_CS_WORDS = {
    "je",
    "se",
    "na",
    "ze",
    "že",
    "jsou",
    "který",
    "která",
    "než",
    "také",
    "jako",
    "při",
    "model",
    "modelu",
}


def _has_any(folded: str, stems: tuple[str, ...]) -> bool:
    return any(s in folded for s in stems)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _clean(md: str) -> str:
    md = _CODE_BLOCK.sub(" ", md)
    md = _IMG.sub(" ", md)
    md = _LINK.sub(r"\1", md)
    md = _HTML_TAG.sub(" ", md)
    return md


def heading_text(md: str) -> list[str]:
    """Markdown headings (``# ...`` lines) in a cell."""
    return [ln.lstrip("#").strip() for ln in md.splitlines() if ln.lstrip().startswith("#")]


# Words of instructions that address the reader (an assignment, a tutorial, a lecture), not a
# student's discussion of their own results; matched on accent-folded lower-case words.
_READER = re.compile(
    r"\b(?:you|your|yours|you'll|you've|you're|let's|lets|let us|we will|we'll|this tutorial"
    r"|this notebook|this exercise|this assignment|muzete|mate|vase|vasi|zkuste|implementujte"
    r"|natrenujte|pouzijte|vytvorte|pridejte|sledujte|opakujte|doplnte|spustte|vyzkousejte"
    r"|upravte|nastavte|zvolte)\b"
)
_IMPERATIVE_START = re.compile(
    r"^(?:try|check|test|use|implement|train|plot|add|remove|run|note|make|look|consider"
    r"|experiment|modify|change|define|create|build|load|visualize|visualise|feel free|see)\b"
)


def _instruction(sentence: str) -> bool:
    """A sentence that tells the reader what to do or what they will see."""
    folded = _fold(sentence)
    return _READER.search(folded) is not None or _IMPERATIVE_START.match(folded) is not None


def _prose(md: str) -> list[str]:
    """Statements of a markdown cell: headings, questions, instructions to the reader and list
    bullets of questions dropped."""
    out = []
    for raw in _SENTENCE.split(_clean(md)):
        s = raw.strip().lstrip("-*>0123456789.) ").strip()
        if not s or s.startswith("#") or s.endswith("?") or s.endswith(":"):
            continue
        if len(_words(s)) < 3 or _instruction(s):
            continue
        out.append(s)
    return out


def _language(text: str) -> str:
    lower = text.lower()
    if sum(lower.count(c) for c in _CS_MARKERS) >= 3:
        return "cs"
    words = set(_words(lower))
    if len(words & _CS_WORDS) >= 3:
        return "cs"
    if re.search(r"\b(the|and|is|of|with)\b", lower):
        return "en"
    if re.search(r"\b(der|die|und|ist)\b", lower):
        return "de"
    if re.search(r"\b(el|los|es|y|con)\b", lower):
        return "es"
    return "en"


_RESULT = re.compile(r"\d+(?:[.,]\d+)?\s?%|\b0[.,]\d{2,4}\b")


def read_discussion(
    cells: list[MarkdownCell], first_result_cell: int | None, last_training_cell: int | None = None
) -> Discussion:
    """Find the written discussion of results.

    Prose counts when it comes after the first cell that shows a result (or
    under a summary/conclusion heading anywhere), talks about models and
    compares them or states a result (an accuracy it quotes). Copied
    assignment text (questions, instructions to the reader) is ignored. A
    discussion of the results is written once they are all there: some of it
    stands after the last training, or under a summary heading.
    """
    chosen: list[tuple[int, list[str]]] = []
    concluding = False
    under_summary = False
    for mc in cells:
        heads = [_fold(h) for h in heading_text(mc.text)]
        if heads:
            under_summary = any(_has_any(h, _SUMMARY_HEADINGS) for h in heads)
        prose = _prose(mc.text)
        if not prose:
            continue
        folded = _fold(" ".join(prose))
        after_results = first_result_cell is not None and mc.cell > first_result_cell
        about_models = _has_any(folded, _MODEL_WORDS)
        comparing = _has_any(folded, _COMPARE_WORDS) or _has_any(folded, _GENERALISATION_WORDS)
        states_result = _has_any(folded, _ACC_WORDS) and _RESULT.search(folded) is not None
        if (after_results or under_summary) and about_models and (comparing or states_result):
            chosen.append((mc.cell, prose))
            concluding = (
                concluding
                or under_summary
                or (last_training_cell is None or mc.cell > last_training_cell)
            )
    if not chosen or not concluding:
        return Discussion()
    text = " ".join(s for _, prose in chosen for s in prose)
    folded = _fold(text)
    words = len(_words(text))
    model_hits = {s for s in _MODEL_WORDS if s in folded}
    return Discussion(
        present=words >= 25,
        cells=[c for c, _ in chosen],
        language=_language(text),
        words=words,
        compares_models=len(model_hits) >= 2 and _has_any(folded, _COMPARE_WORDS),
        discusses_generalisation=_has_any(folded, _GENERALISATION_WORDS),
        discusses_training_time=_has_any(folded, _TIME_WORDS),
        names_best_model=_has_any(folded, _BEST_WORDS),
        mentions_variants=_has_any(folded, _VARIANT_WORDS),
    )


_PCT = re.compile(r"(?<![\w.])(\d{1,3}(?:[.,]\d+)?)\s?%")
_FRAC = re.compile(r"(?<![\w.])(0[.,]\d{2,4})(?![\w.])")
_ACC_WORDS = ("accura", "presnost", "uspesnost", "acc", "genauigkeit", "precision", "exactitud")


def quoted_accuracies(cells: list[MarkdownCell], discussion_cells: list[int]) -> list[QuotedNumber]:
    """Accuracy-like numbers quoted in the discussion (sentences that speak of accuracy)."""
    out: list[QuotedNumber] = []
    wanted = set(discussion_cells)
    for mc in cells:
        if mc.cell not in wanted:
            continue
        for s in _prose(mc.text):
            f = _fold(s)
            if not _has_any(f, _ACC_WORDS):
                continue
            for m in _PCT.finditer(s):
                v = float(m.group(1).replace(",", ".")) / 100
                if 0.05 <= v <= 1.0:
                    out.append(QuotedNumber(mc.cell, v, s[:200]))
            for m in _FRAC.finditer(s):
                v = float(m.group(1).replace(",", "."))
                if 0.05 <= v <= 1.0:
                    out.append(QuotedNumber(mc.cell, v, s[:200]))
    return out
