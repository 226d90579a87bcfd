"""Language modelling pieces shared by loaders, adapters and metrics (kept below all three).

- :class:`Document`: what a language-modelling loader yields for one document;
- :class:`DocumentScore`: what a causal-LM adapter predicts for it (the cache stores it without pickle);
- the two window recipes, as pure index arithmetic:
  :func:`rolling_windows` (lm-evaluation-harness ``loglikelihood_rolling``: disjoint windows, every token
  scored once) and :func:`strided_windows` (the Transformers perplexity guide's sliding window);
- WikiText helpers: lm-eval's document split and detokeniser, reproduced exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Sequence


@dataclass
class Document:
    """One document: ``text`` is what the model scores, ``original`` what words and bytes are counted on."""

    text: str
    original: str
    #: the strings this document adds to the strided corpus (the corpus is ``"\\n\\n".join`` of all of them)
    strided_units: tuple[str, ...] = ()


@dataclass
class StridedWindows:
    """The strided windows a document owns: each window's mean NLL and its weight in the guide's average."""

    stride: int
    max_length: int
    #: token index (in the tokenised corpus) where each window begins
    begins: list[int] = field(default_factory=list)
    #: ``outputs.loss`` of each window (mean NLL over its scored, shifted labels)
    mean_nll: list[float] = field(default_factory=list)
    #: the guide's ``num_loss_tokens``: valid labels minus the batch size
    weights: list[int] = field(default_factory=list)


@dataclass
class DocumentScore:
    """A causal LM's score of one document (``loglikelihood_rolling``) and, when asked, its strided windows."""

    #: natural-log likelihood of the document's tokens, summed over lm-eval's rolling windows
    loglikelihood: float
    #: tokens scored (the document's tokens; BOS/EOS prefixes are context only)
    num_tokens: int
    #: lm-eval's per-window log-likelihoods, in window order
    window_loglikelihoods: list[float] = field(default_factory=list)
    max_length: int = 0
    strided: StridedWindows | None = None


# --- lm-eval's rolling windows ---------------------------------------------------------------------------------
def rolling_windows(num_tokens: int, max_length: int) -> Iterator[tuple[int, int, int]]:
    """``(input_start, input_end, num_scored)`` over positions ``-1 .. num_tokens-1`` (``-1``: the prefix token).

    lm-eval's ``get_rolling_token_windows(context_len=1)`` followed by ``make_disjoint_window`` and
    ``_loglikelihood_tokens``' left truncation: the first window is the prefix token and the first
    ``max_length - 1`` tokens, scoring ``min(max_length, n)`` tokens; every later window scores the next
    ``max_length`` tokens (or the rest) and reads the ``max_length`` tokens before each scored one, so a
    short last window keeps a full context. Inputs are index ranges into ``[prefix] + tokens``
    shifted by one (index ``i`` there is token ``i - 1``).
    """
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    if num_tokens <= 0:
        return
    first = min(max_length, num_tokens)
    yield 0, first, first
    predicted = first
    while predicted < num_tokens:
        scored = min(num_tokens - predicted, max_length)
        end = predicted + scored  # tokens [end - scored, end) are scored
        # input tokens [end - max_length - 1, end - 1), +1 for the prefix shift
        yield end - max_length, end, scored
        predicted = end


def strided_windows(num_tokens: int, max_length: int, stride: int) -> Iterator[tuple[int, int, int]]:
    """``(begin, end, target_length)`` of the Transformers guide's loop over a corpus of ``num_tokens`` tokens.

    ``for begin in range(0, n, stride)``: the window is ``[begin, min(begin + max_length, n))``; its last
    ``end - prev_end`` labels are targets (the rest are masked with -100); the loop stops at the end.
    """
    if stride < 1 or max_length < 1:
        raise ValueError("stride and max_length must be at least 1")
    prev_end = 0
    for begin in range(0, num_tokens, stride):
        end = min(begin + max_length, num_tokens)
        yield begin, end, end - prev_end
        prev_end = end
        if end == num_tokens:
            break


def guide_weight(window_length: int, target_length: int) -> tuple[int, int]:
    """``(scored, num_loss_tokens)`` of one guide window of batch size 1.

    ``scored``: labels that enter ``outputs.loss`` (valid labels after the internal shift drops position 0);
    ``num_loss_tokens``: the guide's weight, valid labels minus the batch size.
    """
    valid = min(target_length, window_length)
    scored = valid - 1 if valid == window_length else valid
    return scored, valid - 1


# --- WikiText as lm-eval reads it -------------------------------------------------------------------------------
def is_article_header(line: str) -> bool:
    """A top-level ``= Title =`` line: the start of a new document in lm-eval's WikiText split."""
    reduced = line.replace("= = =", "===").replace("= =", "==").strip()
    return reduced.startswith("= ") and reduced.strip().endswith(" =")


def split_wikitext_documents(raw: str) -> list[str]:
    """The ``page`` strings of EleutherAI/wikitext_document_level for one ``wiki.*.raw`` file's text.

    Lines (``split("\\n")``) are gathered until the next article header; a gathered page that is only
    whitespace is dropped, except the last one, which is always kept (as the dataset script does).
    """
    lines = raw.split("\n")
    starts = [i for i, line in enumerate(lines) if is_article_header(line)]
    pages = ["\n".join(lines[a:b]) for a, b in zip([0, *starts], [*starts, len(lines)])]
    return [page for page in pages[:-1] if page.strip()] + pages[-1:]


def wikitext_detokenize(page: str) -> str:
    """lm-eval's ``wikitext_detokenizer``: undo WikiText's tokenisation of punctuation and numbers."""
    s = page
    s = s.replace("s '", "s'")
    s = re.sub(r"/' [0-9]/", r"/'[0-9]/", s)
    s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    for mark in (":", ";", ".", "!", "?", ","):
        s = s.replace(f" {mark} ", f"{mark} ")
    s = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)
    s = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", s)
    s = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", s)
    s = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', s)
    s = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", s)
    s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==")
    s = s.replace(" " + chr(176) + " ", chr(176))
    s = s.replace(" \n", "\n").replace("\n ", "\n")
    s = s.replace(" N ", " 1 ")
    s = s.replace(" 's", "'s")
    return s


def count_words(text: str) -> int:
    """lm-eval's word count: ``len(re.split(r"\\s+", text))`` (so an empty text counts one word)."""
    return len(re.split(r"\s+", text))


def count_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def lines_to_strided_units(lines: Sequence[str]) -> tuple[str, ...]:
    """The rows of the line-level Hugging Face WikiText (``Salesforce/wikitext``) for raw lines.

    The dataset script yields each line with its newline, and ``""`` for a line that is only whitespace;
    the guide joins those rows with ``"\\n\\n"``.
    """
    return tuple(line + "\n" if line.strip() else "" for line in lines)
