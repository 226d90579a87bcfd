"""Caption tokenisation as pycocoevalcap's ``PTBTokenizer`` does it, with or without Java.

pycocoevalcap runs Stanford CoreNLP 3.4.1's ``PTBTokenizer -preserveLines -lowerCase`` and
then drops punctuation tokens. ``tokenize(..., backend="java")`` runs that jar (from the
installed pycocoevalcap) in a private temporary folder; ``backend="python"`` reproduces its
output on caption text without Java. The Python rules were derived by probing the jar and
are tested token for token against it on real caption sets and on generated caption text:
ASCII letters, digits, spaces and the punctuation captions use (``.,!?;:'"()[]{}-&/%$#``),
contractions, abbreviations, numbers and fractions, curly quotes, dashes and ellipses, and
CoreNLP's HTHING tokens (letters, digits, periods and commas ending in hyphenated parts:
"dog,x-ray", "fri...,well-known" stay one token). Known shapes it does not reproduce: a comma
or an opening ``'`` right before a number ("a,1990s", "'10"), a closing ``'`` after a word
with "&", ".," after a word with "/" or "'" or one CoreNLP splits ("gonna.,"), four or more
periods in a row, and rare single-letter/abbreviation periods before upper-case words.
Text outside that domain (SGML tags, URLs, e-mail addresses, rare Unicode) is tokenised on a
best-effort basis.

CoreNLP looks past line ends: pycocoevalcap writes all captions into one file, and a one-letter
word's final period ("... with a.") is split off when the next caption starts with a sentence
starter ("A dog ...", "The ..."). :func:`tokenize` therefore tokenises a list of captions as that
file (``tokenize_caption(text, after)`` takes what follows the caption).

:func:`guaranteed` tells the captions on which the port is verified to equal the jar (a
differential fuzz of 100,000 generated captions with every shape above, plus real caption sets):
ASCII caption text without the shapes listed. The default backend ``python`` sends the other
captions to Java when a ``java`` executable is on PATH, so its output equals pycocoevalcap's on
every caption; without Java it is the port alone (``python-only``), best effort on those captions.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit.errors import MissingResourceError

#: tokens pycocoevalcap removes after tokenising (case sensitive: ``-lrb-`` survives lower-casing)
PUNCTUATIONS = frozenset(["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                          ".", "?", "!", ",", ":", "-", "--", "...", ";"])

#: words after which CoreNLP keeps a final period attached (found by probing the 3.4.1 jar:
#: every 1-4 letter string and the abbreviation lists of its lexer)
ABBREVIATIONS = frozenset("""
a.k.a a.m adj adm adv al ala alex apr ariz assn asst atty attys aug ave bancorp bhd bldg blvd
brig bros calif capt cf cie cmdr co col colo comdr conn corp cos cpl ct dak dec del dept det dr drs
e.g ed.d elec ens esq est etc ext feb fla fri ft ga gen gov govs hon i.e inc ind insp intl invt
jan jos jr jul jun kan kans ky la lieut lt ltd maj mar md messrs mfg mich minn mlle mme
mo mon mont mr mrs ms msgr mt mtg natl neb nev nov oct okla p.m pa penn pfc ph ph.d plc ppte
ppty pres prof profs pte ptes pty ptys pvt rd rep reps rev rt s.p.a sen sens sep sept seq sfc sgt
spc sq sr st ste supt supts sys tel tenn tex thu thurs treas tue tues u.k u.s univ va vs vt wash
wed wis wisc wm wyo
""".split())

#: abbreviations with one case-sensitive letter: CoreNLP's lexer is caseless except inside character
#: classes ("[M]ass", "Pp?t[ye]s?", "M[ft]g"); word -> (index of that letter, whether it must be upper case)
CASE_SENSITIVE_ABBREVIATIONS = {
    **{w: (0, True) for w in ("ark", "del", "ill", "la", "mass", "miss", "ore", "pa", "tex", "wash")},
    **{w: (2, False) for w in ("pte", "ptes", "pty", "ptys")},
    "ppte": (3, False), "ppty": (3, False), "mfg": (1, False), "mtg": (1, False),
}

#: capitalised words before which a one-letter abbreviation's period is a sentence end
SENTENCE_STARTERS = frozenset("""
About According Additionally After An A As At But Earlier He Her Here However If In It Last Many
More Mr. Ms. Now Once One Other Our She Since So Some Such That The Then There These They This We
When While What Yet You
""".split())

#: words CoreNLP splits in two ("gonna" -> "gon na")
SPLIT_WORDS = {"cannot": 3, "gimme": 3, "gonna": 3, "gotta": 3, "lemme": 3, "wanna": 3,
               "'tis": 2, "'twas": 2}

_SPACE = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u3000"
_SIMPLE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*\.?")
_ACRO = re.compile(r"[a-z](?:\.[a-z])+")
_SPACE_NL = _SPACE + "\n"
#: a sentence starter after a one-letter word's period: spaces or line breaks, the word (capital first letter, the
#: rest caseless: "The", "THE", not "the"), then a space or line break (not the end of the file, not a comma)
_STARTER = re.compile(r"[" + _SPACE_NL + r"]+(?=[A-Z])(?i:" + "|".join(
    re.escape(w) for w in sorted(SENTENCE_STARTERS, key=len, reverse=True)) + r")(?=[" + _SPACE_NL + r"])")
_UNICODE = str.maketrans({"\u2013": " -- ", "\u2014": " -- ", "\u2015": " -- ", "\u2026": " ... ",
                          "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a3": " # ",
                          "\u20ac": " $ "})
#: one token per match, tried in this order (the lexer takes the longest match; these do not overlap)
_TOKEN = re.compile(r"""
    (?P<space>[""" + _SPACE + r"""]+)
  | (?P<fraction>\d{1,4}[ ]\d{1,4}/\d{1,4}(?![\w/]))
  | (?P<tbspec>-(?:RRB|LRB|RCB|LCB|RSB|LSB)-)
  | (?P<number>[-+]?\d*(?:[.:,]\d+)+(?![^\W_]|[&/]|-[^\W_])|[-+]\d+)
  | (?P<hashtag>\#[^\W\d_]+)
  | (?P<word>[^\W_]+(?:(?:[-'.&/]|'n')[^\W_]+)*)
  | (?P<apos>'n'(?=[^\W_])|'(?:n'?|\d0s|em|till?|cause|tis|twas|s|m|d|re|ve|ll)(?![^\W_]))
  | (?P<quote>["'`]+)
  | (?P<ellipsis>\.{3,})
  | (?P<punct>[!?]+|-+|_+|@+|\#+|\*+|.)
""", re.VERBOSE | re.IGNORECASE)
#: CoreNLP's HTHING: letters, digits, periods and commas, then hyphenated parts ("dog,x-ray", "fri...,well-k",
#: "u.s.-made", "x-U.S."); JFlex takes it whenever it is the longest match
_HTHING = re.compile(r"[^\W_][^\W_.,]*(?:[.,]+[^\W_]*)*(?:-(?:[a-z](?:\.[a-z])+\.|[^\W_]+))+", re.IGNORECASE)
_THINGA = re.compile(r"[A-Z]+(?:&[A-Z]+)+")
_HYPHENATED = re.compile(r"[^\W_.]+(?:[.-][^\W_.]+)*")
_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "[": "-LSB-", "]": "-RSB-", "{": "-LCB-", "}": "-RCB-"}
_AUX = re.compile(r"(.*?[^\W_])('s|'m|'d|'re|'ve|'ll)$", re.IGNORECASE)
_NT = re.compile(r"(.*?[a-z])(n't)$", re.IGNORECASE)


def tokenize_caption(text: str, after: str = "") -> str:
    """One caption as pycocoevalcap's tokeniser leaves it: lower case, space-joined, punctuation dropped.

    ``after`` is what follows the caption in the tokeniser's input: ``"\n"`` and the next caption(s), or ""
    at the end of the file. CoreNLP looks past the line end there: a one-letter word's final period ("with a.")
    is split off when the next line starts with a sentence starter ("A dog ...", "The cat ...").
    """
    lowered = text.lower().strip(_SPACE)
    if _SIMPLE.fullmatch(lowered):  # the common case: plain words and maybe a final period
        last = lowered[:-1].rpartition(" ")[2] if lowered.endswith(".") else ""
        if last not in CASE_SENSITIVE_ABBREVIATIONS and SPLIT_WORDS.keys().isdisjoint(lowered.rstrip(".").split(" ")):
            if last and last not in ABBREVIATIONS and not (len(last) == 1 and last.isalpha()):
                return lowered[:-1]
            if len(last) == 1 and last.isalpha() and _STARTER.match(after):
                return lowered[:-1]
            return lowered
    lowered_tokens = (t.lower() for t in _tokens(text, after))  # CoreNLP lower-cases before the filter
    return " ".join(t for t in lowered_tokens if t not in PUNCTUATIONS)


def _tokens(line: str, after: str = "") -> list[str]:
    line = line.translate(_UNICODE)
    context = line + after  # what the lexer's look-ahead sees (the next lines of its input)
    out: list[str] = []
    pos = 0
    while pos < len(line):
        match = _TOKEN.match(line, pos)
        kind, text = match.lastgroup, match.group()
        hthing = _HTHING.match(line, pos)
        if hthing and (hthing.end() > match.end() or kind == "word" and "-" in text and _HYPHENATED.fullmatch(text)):
            kind, text = "hthing", hthing.group()
        elif kind == "word" and _relexed_from(text):
            text = text[: _relexed_from(text)]
        pos = hthing.end() if kind == "hthing" else match.start() + len(text)
        if kind == "space":
            continue
        if kind == "fraction":
            out.append(text.replace(" ", "\u00a0"))
        elif kind in ("word", "hthing"):
            parts = _split_word(text) if kind == "word" else [text]
            if line.startswith(".", pos) and _keeps_period(parts[-1], line, pos, context):
                parts[-1] += "."
                pos += 1
            out.extend(parts)
        elif kind == "quote":
            out.extend(_quotes(text, line, pos))
        else:
            out.append(_BRACKETS.get(text, text))
    return out


def _relexed_from(word: str) -> int:
    """Where the lexer ends a word that splits off ``y'``, ``'n'`` or a lower-case ``&`` (0: it does not): the
    rest is lexed again, so "at&t,x-ray" gives "at", "&", "t,x-ray"."""
    low = word.lower()
    if low in SPLIT_WORDS:
        return 0
    if "'n'" in low and not low.startswith("'n'"):
        end = low.index("'n'") + 3
        return end if end < len(word) else 0
    if low.startswith("y'") and len(low) > 2:
        return 2
    if "&" in word and not all(p.isupper() or p == "&" for p in re.split(r"(&)", word)):
        upper = _THINGA.match(word)
        return upper.end() if upper and word.startswith("&", upper.end()) else word.index("&")
    return 0


def _keeps_period(word: str, line: str, pos: int, context: str = "") -> bool:
    """Whether the period at ``line[pos]`` stays attached to ``word`` (an abbreviation's period); ``context`` is
    ``line`` followed by the rest of the input."""
    low = word.lower()
    if low in CASE_SENSITIVE_ABBREVIATIONS:
        at, upper = CASE_SENSITIVE_ABBREVIATIONS[low]
        if word[at].isupper() == upper:
            return True
    elif low in ABBREVIATIONS or _ACRO.fullmatch(low):
        return True
    if len(low) == 1 and low.isalpha():
        return not _STARTER.match(context or line, pos + 1)
    if line.startswith(".", pos + 1) or "'" in word:
        return False
    return line.startswith((",", ";", ":"), pos + 1)


def _quotes(text: str, line: str, pos: int) -> list[str]:
    """Straight quotes become `` / ` before a word and '' / ' elsewhere, as in LaTeX."""
    opening = pos < len(line) and (line[pos].isalnum() or line[pos] == "$")
    out = []
    rest = text
    while rest:
        if rest.startswith(("``", "''")):
            out.append(rest[:2])
            rest = rest[2:]
        elif rest[0] == '"':
            out.append("``" if opening else "''")
            rest = rest[1:]
        else:
            out.append("`" if opening and rest[0] != "`" or rest[0] == "`" else "'")
            rest = rest[1:]
    return out


def _split_word(word: str) -> list[str]:
    low = word.lower()
    if low in SPLIT_WORDS:
        cut = SPLIT_WORDS[low]
        return [word[:cut], word[cut:]]
    if "'n'" in low and not low.startswith("'n'"):
        at = low.index("'n'")
        return [*_split_word(word[:at]), word[at : at + 3], *(_split_word(word[at + 3 :]) if word[at + 3 :] else [])]
    if low.startswith("y'") and len(low) > 2:
        return [word[:2], *_split_word(word[2:])]
    if "&" in word:
        parts = re.split(r"(&)", word)
        if not all(p.isupper() or p == "&" for p in parts):
            return [t for p in parts if p for t in (_split_word(p) if p != "&" else ["&"])]
    if "'" in word:
        match = _AUX.match(word) or _NT.match(word)
        if match:
            return [*_split_word(match.group(1)), match.group(2)]
    return [word]


def pycocoevalcap_jar(module_name: str, attribute: str, needed_by: str) -> Path:
    """The jar that pycocoevalcap's module ``module_name`` names in ``attribute``, beside that module."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MissingResourceError(f"{needed_by} needs pycocoevalcap installed") from err
    jar = Path(module.__file__).resolve().parent / getattr(module, attribute)
    if not jar.is_file():
        raise MissingResourceError(f"{needed_by}: jar not found: {jar}")
    return jar


def java_tokenizer_jar() -> Path:
    """The CoreNLP jar shipped with pycocoevalcap."""
    return pycocoevalcap_jar("pycocoevalcap.tokenizer.ptbtokenizer", "STANFORD_CORENLP_3_4_1_JAR",
                             "the java tokenizer (CoreNLP)")


def java_available() -> bool:
    return shutil.which("java") is not None


def java_fallback_available() -> bool:
    """Whether the default backend can send captions to CoreNLP: ``java`` on PATH and pycocoevalcap's jar."""
    if not java_available():
        return False
    try:
        java_tokenizer_jar()
    except MissingResourceError:
        return False
    return True


def tokenize_java(captions: Sequence[str]) -> list[str]:
    """pycocoevalcap's PTBTokenizer on ``captions`` in one Java launch, temp file outside site-packages."""
    if not captions:
        return []
    if not java_available():
        raise MissingResourceError("tokenizer 'java' needs a java executable on PATH (or use tokenizer: python)")
    jar = java_tokenizer_jar()
    with tempfile.TemporaryDirectory(prefix="evalkit-ptb-") as folder:
        path = os.path.join(folder, "captions.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(c.replace("\n", " ") for c in captions))
        proc = subprocess.run(
            ["java", "-cp", str(jar), "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines", "-lowerCase", path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, check=False,
        )
    if proc.returncode != 0:
        raise MissingResourceError(f"java PTBTokenizer failed: {proc.stderr.decode(errors='replace')[-500:]}")
    lines = proc.stdout.decode("utf-8").split("\n")
    return [" ".join(w for w in line.rstrip().split(" ") if w not in PUNCTUATIONS) for line in lines[: len(captions)]]


def _following(lines: Sequence[str], i: int) -> str:
    """What follows line ``i`` in the tokeniser's input, up to the next line with a token ("" at the end)."""
    out = []
    for j in range(i + 1, len(lines)):
        out.append("\n" + lines[j])
        if lines[j].strip(_SPACE):
            if j + 1 < len(lines):
                out.append("\n")  # the line break after it (the look-ahead needs a blank after a word)
            break
    return "".join(out)


#: the caption text the Python port is verified on, character by character (ASCII letters, digits, blanks and the
#: punctuation captions use); anything else is not guaranteed
_GUARANTEED_CHARS = re.compile(r"[A-Za-z0-9 \t.,!?;:'\"()\[\]{}\-&/%$#]*")
#: shapes inside that alphabet where the port is known to differ from CoreNLP (see the module docstring)
_UNGUARANTEED = re.compile(r"""
    [,']\d                 # a comma or an opening ' right before a number ("a,1990s", "'10")
  | \.{4,}                 # four or more periods in a row
  | \.,                    # ".," after a word
  | [.'&][^\s/]*/ | /[^\s/]*[.'&]  # a "/" in a token with a period, an apostrophe or "&" ("i'm/a.m", "r&d/b")
  | (?<![A-Za-z])[A-Za-z]'  # a one-letter word before an apostrophe ("d'", "o'clock")
""", re.VERBOSE)

#: a word, its period, blanks and an upper-case letter
_PERIOD_CAPITAL = re.compile(r"([A-Za-z][A-Za-z.]*)\.[" + _SPACE + r"]+(?=[A-Z])")


def guaranteed(caption: str) -> bool:
    """Whether the Python port is guaranteed to tokenise ``caption`` as CoreNLP does (differential fuzz of
    tests/metrics/test_ptb_tokenizer.py); :func:`tokenize` sends the others to Java when Java is present."""
    line = caption.replace("\n", " ")
    if not _GUARANTEED_CHARS.fullmatch(line) or _UNGUARANTEED.search(line):
        return False
    for match in _PERIOD_CAPITAL.finditer(line):  # "Jan. The", "a. Mike": an abbreviation's period before a capital
        word = match.group(1).lower()
        if len(word) <= 4 or "." in word or word in ABBREVIATIONS:
            return False
    return not ("&" in line and "'" in line)  # a closing ' after a word with "&"


def _tokenize_java_in_context(lines: Sequence[str], which: Sequence[int]) -> dict[int, str]:
    """CoreNLP's tokens of ``lines[i]`` for each ``i`` in ``which``, each line followed in the jar's input by what
    follows it in ``lines`` (CoreNLP looks past line ends), in one Java launch."""
    groups = []
    for i in which:
        after = _following(lines, i)
        groups.append((not after.strip(_SPACE + "\n"), i, [lines[i], *after.split("\n")[1:]]))
    groups.sort(key=lambda g: g[0])  # the one group that reaches the end of the input goes last, as in the input
    flat, at = [], {}
    for _, i, group in groups:
        at[i] = len(flat)
        flat.extend(group)
    tokens = tokenize_java(flat)
    return {i: tokens[at[i]] for i in which}


def tokenize(captions: Iterable[str], backend: str = "python") -> list[str]:
    """Tokenised captions (one space-joined string each), as pycocoevalcap's tokeniser gives them when it writes
    ``captions`` one per line into its input file (a caption's tokens can depend on the start of the next one).

    Backends: ``java`` runs CoreNLP on all of them; ``python-only`` runs the Python port on all of them (no Java;
    captions outside :func:`guaranteed` are tokenised on a best-effort basis); ``python`` (the default) runs the
    port and, when a ``java`` executable is on PATH and pycocoevalcap (its jar) is installed, CoreNLP on the
    captions :func:`guaranteed` rejects (one Java launch), so its output equals the jar's on every caption.
    Without them, ``python`` is ``python-only``.
    """
    captions = list(captions)
    if backend == "java":
        return tokenize_java(captions)
    if backend not in ("python", "python-only"):
        raise ValueError(f"tokenizer must be 'python', 'python-only' or 'java', got {backend!r}")
    fallback = backend == "python" and java_fallback_available()
    # CIDEr, BLEU and ROUGE_L of one `evalkit score cider` tokenise the same captions: the last few results
    # are kept, keyed by everything the tokens depend on (the captions, the backend, Java, the functions)
    key = (fallback, tokenize_caption, _tokenize_java_in_context, tuple(captions))
    try:
        known = _RECENT.get(key)
    except TypeError:  # an unhashable caption: tokenising it fails as it always did
        return _tokenize_python(captions, fallback)
    if known is not None:
        return list(known)
    out = _tokenize_python(captions, fallback)
    _RECENT[key] = tuple(out)
    while len(_RECENT) > 4:
        del _RECENT[next(iter(_RECENT))]
    return out


#: the last few results of :func:`tokenize` (the python backends), oldest first
_RECENT: dict[tuple[Any, ...], tuple[str, ...]] = {}


#: a lower-cased line, blanks stripped, that :func:`guaranteed` accepts (when its text is ASCII) and
#: :func:`tokenize_caption` only strips, maybe dropping a final period: words on single spaces (no two spaces in a
#: row: checked apart), maybe a final period
_PLAIN_LINE = re.compile(r"[a-z0-9](?:[a-z0-9 ]*[a-z0-9])?\.?")
#: plain lines whose final period is not simply kept or dropped: a one-letter word's (it depends on the next line)
#: and a case-sensitive abbreviation's
_OWN_PERIOD = frozenset("abcdefghijklmnopqrstuvwxyz") | CASE_SENSITIVE_ABBREVIATIONS.keys()
#: last words whose final period is not simply dropped: kept (abbreviations) or left to the exact path
_PERIOD_WORDS = ABBREVIATIONS | _OWN_PERIOD
_SPLIT_PLAIN_WORDS = tuple(w for w in SPLIT_WORDS if w.isalpha())


def _tokenize_plain_lines(lines: list[str]) -> list[str | None]:
    """:func:`tokenize_caption` of each plain line (see ``_PLAIN_LINE``; None for the other lines, which need
    the exact path): the input lower-cased as one text, then C-level passes over the lines (map of str and
    regular expression methods), with Python work per line only where a rare shape occurs in the input."""
    text = "\n".join(lines)
    lowered_text = text.lower()
    lowered = lowered_text.split("\n")  # one per line: lines hold no line break, and lower() makes none
    stripped = list(map(str.strip, lowered, repeat(" \t")))
    words = list(map(str.rstrip, stripped, repeat(".")))  # the final period dropped
    out = [w if plain else None for w, plain in zip(words, map(_PLAIN_LINE.fullmatch, stripped))]
    if not _PERIOD_WORDS.isdisjoint(map(itemgetter(2), map(str.rpartition, words, repeat(" ")))):
        for i, tokens in enumerate(out):
            last = tokens.rpartition(" ")[2] if tokens is not None and stripped[i].endswith(".") else ""
            if last in _PERIOD_WORDS:
                out[i] = None if last in _OWN_PERIOD else tokens + "."
    split_words = [w for w in _SPLIT_PLAIN_WORDS if w in lowered_text]
    if not text.isascii() or split_words or "  " in lowered_text:  # rare shapes take the exact path: a non-ASCII
        for i, line in enumerate(lines):  # line (not guaranteed), a word CoreNLP splits, two spaces in a row
            if out[i] is not None and (not line.isascii() or "  " in stripped[i]
                                       or any(w in lowered[i] for w in split_words)):
                out[i] = None
    return out


def _tokenize_python(captions: list[str], fallback: bool) -> list[str]:
    lines = [c.replace("\n", " ") for c in captions]
    out = _tokenize_plain_lines(lines)
    other = [i for i, tokens in enumerate(out) if tokens is None]
    for i in other:
        out[i] = tokenize_caption(lines[i], _following(lines, i))
    if fallback:  # plain lines are guaranteed
        rejected = [i for i in other if not guaranteed(lines[i])]
        if rejected:
            for i, tokens in _tokenize_java_in_context(lines, rejected).items():
                out[i] = tokens
    return out  # type: ignore[return-value]
