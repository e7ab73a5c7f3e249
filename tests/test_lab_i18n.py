"""Spanish all the way through: the catalogue, and every word of the Spanish report, figures, explainer and help.

A word is "English left over" when it occurs in the English catalogue and nowhere in the
Spanish one (so "tanh", "LSTM", "MSE" — used in both — are not flagged, "learning",
"accuracy", "chance", "term" are). Identifiers (a_t, torch.manual_seed, rnn-sigmoid, file
names, <code> in the report) are not words.
"""

import html
import re
import string

import pytest

pytest.importorskip("matplotlib", reason="the lab's plots need matplotlib")

from bptt.lab import plotting  # noqa: E402
from bptt.lab.i18n import LANGS, MESSAGES, help_lang, tr  # noqa: E402

IDENTIFIERS = {"rnn-tanh", "rnn-sigmoid", "rnn-relu", "batch-size", "pad-end", "pad-front"}


def _placeholders(msg):
    return {f for _, f, _, _ in string.Formatter().parse(msg) if f}


def test_catalogue_has_both_languages_with_the_same_placeholders():
    assert set(MESSAGES["en"]) == set(MESSAGES["es"])
    for key, en in MESSAGES["en"].items():
        es = MESSAGES["es"][key]
        assert es.strip(), key
        assert _placeholders(es) <= _placeholders(en), key
    assert tr("es", "report.conclusion") == "Conclusiones"
    with pytest.raises(ValueError, match="lang"):
        tr("fr", "report.title")


def _words(text):
    out = set()
    for tok in re.findall(r"[^\s()\[\]{},;:!?¿¡/=+*<>\"“”|·×…–—]+", text):
        tok = tok.strip(".'’")
        if tok.lower() in IDENTIFIERS or "_" in tok or "." in tok or any(c.isdigit() for c in tok):
            continue  # a name in code, a file, a number
        for w in re.split(r"[-'’]", tok):
            if len(w) >= 3 and w.isalpha():
                out.add(w.lower())
    return out


def _english_only():
    en = set().union(*(_words(v) for v in MESSAGES["en"].values()))
    es = set().union(*(_words(v) for v in MESSAGES["es"].values()))
    return en - es


def english_left(text):
    return sorted(_words(text) & _english_only())


def test_the_detector_finds_english():
    assert english_left("precisión de prueba: 0.9, test accuracy") == ["accuracy", "test"]
    assert english_left("celda rnn-sigmoid, torch.manual_seed(0), término W") == []


def _visible_text(page):
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', " ", page)
    alts = " ".join(re.findall(r'alt="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + alts)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every experiment (tiny), written and reported in both languages; the figures' texts collected."""
    from test_lab import tiny

    from bptt.lab.experiments import EXPERIMENTS
    from bptt.lab.report import build_html, lang_dir, write_experiment

    out = tmp_path_factory.mktemp("i18n")
    results = {n: tiny(n) for n in EXPERIMENTS}
    pages, figures = {}, {}
    for lang in LANGS:
        plotting.COLLECT = []
        try:
            files = {n: write_experiment(r, lang_dir(out, lang) / "data", lang=lang) for n, r in results.items()}
            figures[lang] = plotting.COLLECT
        finally:
            plotting.COLLECT = None
        pages[lang] = build_html(results, {}, files, lang, "tiny", 0, 1.0)
    return out, pages, figures


def test_spanish_report_has_no_english_left(rendered):
    out, pages, _ = rendered
    es = _visible_text(pages["es"])
    assert "Conclusiones" in es and english_left(es) == []
    # the check has teeth: the English report is full of English-only words
    assert len(english_left(_visible_text(pages["en"]))) > 50
    # the two languages live in two folders
    assert (out / "data" / "vanishing.md").exists() and (out / "es" / "data" / "vanishing.md").exists()
    md = (out / "es" / "data" / "vanishing.md").read_text(encoding="utf-8")
    assert english_left(re.sub(r"\(\S+\.png\)", " ", md)) == []


def test_spanish_figures_have_no_english_left(rendered):
    _, _, figures = rendered
    assert len(figures["es"]) == len(figures["en"]) >= 12
    for name, texts in figures["es"]:
        assert texts, name
        assert english_left(" ".join(texts)) == [], name
    assert any(english_left(" ".join(t)) for _, t in figures["en"])


def test_every_figure_has_a_caption_and_alt_text(rendered):
    _, pages, figures = rendered
    for lang in LANGS:
        for name, _ in figures[lang]:
            stem = name[:-4]
            assert len(tr(lang, "fig." + stem)) > 30 and len(tr(lang, "alt." + stem)) > 20, stem
        assert pages[lang].count("<figcaption>") == len(figures[lang])
        assert pages[lang].count('<div class="tablebox">') >= 6  # tables scroll inside their box


def test_spanish_explain_has_no_english_left():
    from bptt.lab.explain import explain

    for kw in ({}, {"cell": "lstm", "steps": 3}, {"cell": "gru"}):
        text = explain(lang="es", paths=True, backend="numpy", **kw)
        assert "término W" in text and english_left(text) == [], kw
        assert english_left(explain(lang="en", paths=True, backend="numpy", **kw))


@pytest.mark.parametrize("cmd", ["lab", "experiment", "explain"])
def test_spanish_help_has_no_english_left(cmd, monkeypatch):
    from bptt.cli import build_parser

    monkeypatch.setattr("sys.argv", ["bptt", cmd, "--lang", "es", "--help"])
    assert help_lang() == "es"
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices[cmd].format_help()
    from bptt.lab.experiments import EXPERIMENTS

    # flags, metavars, choices, the command and the experiment names are what the user types, not words
    text = re.sub(r"-\n\s+", "-", text)  # argparse wraps "batch-size" after its hyphen
    words = re.sub(r"(?<!\w)--?[\w-]+|\b[A-Z_]{2,}\b|\{[\w,.-]+\}|bptt \w+", " ", text)
    words = re.sub("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in EXPERIMENTS), " ", words)
    assert text.startswith("uso:") and english_left(words) == [], english_left(words)
    monkeypatch.setattr("sys.argv", ["bptt", cmd, "--help"])
    assert english_left(next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
                        .choices[cmd].format_help())
