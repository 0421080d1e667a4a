"""Score mailgate.clean against the shared reference corpora.

Run from the repository root:  ./.venv/bin/python bench/quality.py [-v]

Prints one table and writes bench/results/quality.json. Each corpus is scored the way its
expected.json / SOURCE.txt says (see the notes per row below); "exact" means equal after
whitespace normalisation (runs of whitespace -> one space, ends stripped) unless noted.

Mapping of our CleanText onto each reference:
- talon (standard + HTML replies) checks *quote* removal only (talon's extract_from_plain /
  extract_from_html keep signatures), so we compare visible + signature, i.e. everything that
  is not quoted.
- willdurand / crisp "visible text" and "first fragment" hide signatures, so we compare
  `visible` alone. A first fragment is the text before the first quote/signature boundary,
  which for these fixtures is exactly our visible text.
- Rows marked "info" are computed by the reference implementation (flagged unsure upstream)
  or need talon's ML model; they are reported, not targeted.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "bench" / "results" / "quality.json"

from mailgate.clean import CleanText, clean_text, html_to_text  # noqa: E402


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def nospace(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def not_quoted(ct: CleanText) -> str:
    return "\n\n".join(p for p in (ct.visible, ct.signature) if p)


@dataclass
class Row:
    corpus: str
    category: str
    target: str  # "" for informational rows
    cases: int = 0
    exact: int = 0
    crashes: int = 0
    skipped: int = 0  # inputs another stage could not produce (e.g. parse errors)
    failures: list[dict] = field(default_factory=list)

    def check(self, name: str, run: Callable[[], CleanText], ok: Callable[[CleanText], bool],
              expected: object = None, got: Callable[[CleanText], str] | None = None) -> None:
        self.cases += 1
        try:
            ct = run()
        except Exception:  # noqa: BLE001 - a crash is a score, not a stop
            self.crashes += 1
            self.failures.append({"case": name, "crash": traceback.format_exc(limit=3)})
            return
        if ok(ct):
            self.exact += 1
        else:
            self.failures.append({
                "case": name, "expected": expected,
                "got": got(ct) if got else ct.visible,
            })


def first_text_plain(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    return ""


def bench_talon() -> list[Row]:
    base = CORPUS / "talon"
    exp = json.loads((base / "expected.json").read_text())
    std = Row("talon", "standard replies (visible+signature)", "100%")
    htm = Row("talon", "HTML replies (no whitespace)", "100%")
    sig = Row("talon", "signature cases (info: ML model)", "")
    misc = Row("talon", "share-block assertions (info)", "")
    for rel, e in exp.items():
        path = base / rel
        if "standard_replies" in rel and rel.endswith(".eml"):
            text = first_text_plain(path.read_bytes())
            want = e["expected_reply"]
            std.check(rel, lambda t=text: clean_text(t),
                      lambda ct, w=want: norm(not_quoted(ct)) == norm(w), want, not_quoted)
        elif rel.endswith(".html") and "expected_reply" in e:
            html = path.read_text(encoding="utf-8", errors="replace")
            want = e["expected_reply"]
            htm.check(rel, lambda h=html: clean_text(None, h),
                      lambda ct, w=want: nospace(not_quoted(ct)) == nospace(w), want, not_quoted)
        elif rel.endswith(".html") and "expected_reply_html" in e:
            # Expected is talon's reply HTML; we produce text, so compare its text rendering.
            html = path.read_text(encoding="utf-8", errors="replace")
            want = html_to_text(e["expected_reply_html"])
            htm.check(rel, lambda h=html: clean_text(None, h),
                      lambda ct, w=want: nospace(not_quoted(ct)) == nospace(w), want, not_quoted)
        elif rel.endswith("reply-quotations-share-block.eml"):
            raw = path.read_text(encoding="utf-8", errors="replace")
            misc.check(rel, lambda r=raw: clean_text(r),
                       lambda ct: bool(ct.visible.strip()) and "From" not in ct.visible)
        elif "signature/emails/stripped" in rel:
            body = path.read_text(encoding="utf-8", errors="replace")
            wt, ws = e["expected_text_without_signature"], e["expected_signature"]
            sig.check(rel, lambda b=body: clean_text(b),
                      lambda ct, wt=wt, ws=ws: norm(ct.visible) == norm(wt)
                      and norm(ct.signature) == norm(ws), ws, lambda ct: ct.signature)
    return [std, htm, sig, misc]


COMMON_KEY = "expected_first_fragment_trimmed"


def bench_willdurand() -> list[Row]:
    base = CORPUS / "willdurand_email_reply_parser_php"
    fx = base / "tests" / "Fixtures"
    exp = json.loads((base / "expected.json").read_text())
    lit = Row("willdurand", "visible-text literals", ">=95%")
    ff = Row("willdurand", "first fragment", ">=95%")
    tpl = Row("willdurand", "date/From templates (info)", "")
    comp = Row("willdurand", "computed, unsure (info)", "")
    common = next(e[COMMON_KEY] for e in exp.values() if e.get(COMMON_KEY))
    for name, e in sorted(exp.items()):
        text = (fx / name).read_text(encoding="utf-8", errors="replace")
        def run(t=text):
            return (clean_text(t))
        basis = e["basis"]
        if e.get("expected_visible_text_asserted") is not None:
            want = e["expected_visible_text_asserted"]
            lit.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
        elif basis == "first_fragment_asserted":
            want = e.get(COMMON_KEY)
            if want is None and name == "email_23_1.txt":
                # upstream: 3 Lorem lines + "\n\nSomething wrote:\n" + 2 Lorem lines
                lines = common.split("\n")
                want = "\n".join(lines[:3]) + "\n\nSomething wrote:\n" + "\n".join(lines[3:])
            ff.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
        elif basis == "computed_by_reference_impl":
            want = e["visible_text_default_config"]
            comp.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
    gen = json.loads((base / "generated_from_templates.json").read_text())
    for name, g in gen.items():
        want = g["visible_text"]
        tpl.check(name, lambda b=g["body"]: clean_text(b),
                  lambda ct, w=want: norm(ct.visible) == norm(w), want)
    return [lit, ff, tpl, comp]


def bench_crisp() -> list[Row]:
    base = CORPUS / "crisp_email_reply_parser_js"
    fx = base / "test" / "fixtures"
    exp = json.loads((base / "expected.json").read_text())
    ex = Row("crisp", "exact visible text", ">=90%")
    ff = Row("crisp", "first fragment", ">=90%")
    comp = Row("crisp", "computed, unsure (info)", "")
    for name, e in sorted(exp.items()):
        text = (fx / name).read_text(encoding="utf-8", errors="replace")
        def run(t=text):
            return (clean_text(t))
        if e.get("expected_visible_text_asserted") is not None:
            want = e["expected_visible_text_asserted"]
            ex.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
        elif e.get("expected_first_fragment_asserted") is not None:
            want = e["expected_first_fragment_asserted"]
            ff.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
        elif e["basis"] == "computed_by_reference_impl":
            want = e["visible_text_computed"]
            comp.check(name, run, lambda ct, w=want: norm(ct.visible) == norm(w), want)
    return [ex, ff, comp]


def bench_parsed() -> list[Row]:
    """Raw-MIME corpora: parse with mailgate.parse, clean, and count crashes (no references
    for cleaned text exist: zammad keeps the whole body, the others only assert parsing)."""
    try:
        from mailgate.parse import parse_message
    except Exception:  # noqa: BLE001 - the parser is written by someone else; optional here
        return []
    rows = []
    sets = {
        "zammad": ["test/data/mail/*.box", "upstream_newer_via_index/*.box",
                   "test/data/ticket_trigger/*", "spec/fixtures/files/smime/*.eml"],
        "mikel_mail_ruby": ["spec/fixtures/emails/**/*.eml"],
        "nodemailer_mailparser": ["test/fixtures/*.eml"],
    }
    for corpus, globs in sets.items():
        row = Row(corpus, "parse + clean without crash (info)", "")
        files = sorted({p for g in globs for p in (CORPUS / corpus).glob(g) if p.is_file()})
        for path in files:
            raw = path.read_bytes()

            try:
                msg = parse_message(raw)
            except Exception as exc:  # noqa: BLE001 - the parser's bug, not the cleaner's
                row.skipped += 1
                row.failures.append({"case": str(path.name), "parse_error": repr(exc)})
                continue

            def run(msg=msg) -> CleanText:
                return clean_text(msg.text_plain, msg.text_html)

            row.check(str(path.relative_to(CORPUS / corpus)), run, lambda ct: True)
        rows.append(row)
    return rows


def main() -> int:
    verbose = "-v" in sys.argv
    if not CORPUS.is_dir():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    rows = bench_talon() + bench_willdurand() + bench_crisp() + bench_parsed()
    elapsed = time.perf_counter() - t0
    header = f"{'corpus':<22} {'category':<38} {'cases':>5} {'exact':>5} {'crash':>5} {'pct':>7}  target  (skipped)"
    print(header)
    print("-" * len(header))
    for r in rows:
        pct = 100.0 * r.exact / r.cases if r.cases else 0.0
        print(f"{r.corpus:<22} {r.category:<38} {r.cases:>5} {r.exact:>5} {r.crashes:>5} "
              f"{pct:>6.1f}%  {r.target or 'info':<6}" + (f"  ({r.skipped} parse errors)" if r.skipped else ""))
    print("-" * len(header))
    # The targets are per corpus, over all of its targeted rows together.
    for corpus in dict.fromkeys(r.corpus for r in rows if r.target):
        tr = [r for r in rows if r.corpus == corpus and r.target]
        cases, exact = sum(r.cases for r in tr), sum(r.exact for r in tr)
        print(f"{corpus:<22} {'targeted rows together':<38} {cases:>5} {exact:>5} "
              f"{sum(r.crashes for r in tr):>5} {100.0 * exact / cases:>6.1f}%  {tr[0].target}")
    print(f"({elapsed:.1f} s)")
    if verbose:
        for r in rows:
            for f in r.failures:
                print(f"\n## {r.corpus} / {r.category} / {f['case']}")
                for k in ("expected", "got", "crash", "parse_error"):
                    if k in f:
                        print(f"-- {k}:\n{f[k]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "seconds": round(elapsed, 2),
        "rows": [{
            "corpus": r.corpus, "category": r.category, "target": r.target, "cases": r.cases,
            "exact": r.exact, "crashes": r.crashes, "skipped": r.skipped, "failures": r.failures,
        } for r in rows],
    }, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
