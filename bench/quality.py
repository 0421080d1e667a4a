"""Score mailgate.clean against every reference corpus in ../shared/corpus.

Run from the repository root:  ./.venv/bin/python bench/quality.py [-v] [--direct]

Per folder: cases, exact, policy disagreements (each with the rule of docs/clean-text.md it
follows, found by bench/quality_policy.py from the case itself), real misses; then one total
line. Writes bench/results/quality.json (every non-exact case with expected and got).

"exact" is equal after white-space normalisation (talon's HTML cases: with all white space
removed, as talon's own test). How each folder is read:
- talon checks quote removal only (its outputs keep signatures): compared with visible +
  signature.
- willdurand / crisp "visible text" and "first fragment" hide signatures: `visible` alone.
- the reply-trimming sets (EdgeTier, griddler, phabricator, quotequail, Mailspring, and any
  folder with the same expected.json shape) go through the product: each a reply to one
  ticket, visible text from `mailgate ticket show --json` (bench/quality_sets.py); with
  --direct through parse_message + clean_text instead. Both are run; they must agree.
- zammad, mikel_mail_ruby and nodemailer have no expected clean text: only the properties
  (no crash, never an empty visible text for a mail with text).
Rows marked "info" are computed by a reference implementation that its authors flag unsure,
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
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "bench" / "results" / "quality.json"

import quality_sets as qs  # noqa: E402
from quality_policy import Case, policy_rule  # noqa: E402

from mailgate.clean import CleanText, body_lines, clean_text, html_to_text  # noqa: E402

warnings.filterwarnings("ignore", module="html5lib")  # lxml's parser warns on Word's markup


# clean_text drops invisible characters (zero-width space, BOM, Gmail's U+1427); some
# references keep them
_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u2060\ufeff\u180e\u1427"))


def norm(text: str | None) -> str:
    return " ".join((text or "").translate(_INVISIBLE).split())


def nospace(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def not_quoted(ct: CleanText) -> str:
    return "\n\n".join(p for p in (ct.visible, ct.signature) if p)


@dataclass
class Row:
    folder: str
    label: str
    targeted: bool = True
    reply_set: bool = False  # one of the reply-trimming sets (the issue 18 target)
    cases: int = 0
    exact: int = 0
    crashes: int = 0
    policy: Counter = field(default_factory=Counter)
    details: list[dict] = field(default_factory=list)

    @property
    def misses(self) -> int:
        return self.cases - self.exact - sum(self.policy.values())

    def score(self, name: str, plain: str | None, html: str | None, expected: list[str], *,
              got: Callable[[CleanText], str] = lambda ct: ct.visible, same: Callable = None,
              shown: str | None = None) -> None:
        """One case: `expected` lists acceptable references (the first is reported);
        `shown` is the visible text the product stored, when measured through it."""
        same = same or (lambda a, b: norm(a) == norm(b))
        self.cases += 1
        try:
            ct = clean_text(plain, html)
        except Exception:  # noqa: BLE001 - a crash is a score, not a stop
            self.crashes += 1
            self.details.append({"case": name, "crash": traceback.format_exc(limit=3)})
            return
        if shown is not None and norm(shown) != norm(ct.visible):
            self.details.append({"case": name, "product_differs": shown, "clean_text": ct.visible})
        text = got(ct) if shown is None else got(CleanText(shown, ct.quoted, ct.signature))
        if any(same(text, want) for want in expected):
            self.exact += 1
            return
        lines, flags = body_lines(plain, html)
        quoted = frozenset(" ".join(s.split()) for s, f in zip(lines, flags, strict=True) if f)
        rules = {want: policy_rule(Case(want, text, ct, lines, quoted)) for want in expected}
        rule = next((r for r in rules.values() if r), None)
        if rule:
            self.policy[rule] += 1
        self.details.append({"case": name, "policy": rule, "expected": expected[0], "got": text,
                             "signature": ct.signature, "quoted": ct.quoted[:2000]})


def first_text_plain(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return next((p.get_content() for p in msg.walk() if p.get_content_type() == "text/plain"), "")


def bench_talon() -> list[Row]:
    base = CORPUS / "talon"
    exp = json.loads((base / "expected.json").read_text())
    main, sig = Row("talon", "replies (visible+signature)"), Row("talon", "signature cases (ML model)", False)
    for rel, e in exp.items():
        path = base / rel
        if "standard_replies" in rel and rel.endswith(".eml"):
            main.score(rel, first_text_plain(path.read_bytes()), None, [e["expected_reply"]], got=not_quoted)
        elif rel.endswith(".html"):
            want = e.get("expected_reply") or html_to_text(e.get("expected_reply_html", ""))
            html = path.read_text(encoding="utf-8", errors="replace")
            main.score(rel, None, html, [want], got=not_quoted, same=lambda a, b: nospace(a) == nospace(b))
        elif "signature/emails/stripped" in rel:
            body = path.read_text(encoding="utf-8", errors="replace")
            sig.score(rel, body, None, [e["expected_text_without_signature"]])
    return [main, sig]


def _fixture(folder: str, sub: str, name: str) -> str:
    return (CORPUS / folder / sub / name).read_text(encoding="utf-8", errors="replace")


def bench_willdurand() -> list[Row]:
    folder, sub = "willdurand_email_reply_parser_php", "tests/Fixtures"
    exp = json.loads((CORPUS / folder / "expected.json").read_text())
    main, info = Row("willdurand", "literals + first fragments"), Row("willdurand", "templates, computed", False)
    common = next(e["expected_first_fragment_trimmed"] for e in exp.values() if e.get("expected_first_fragment_trimmed"))
    for name, e in sorted(exp.items()):
        text = _fixture(folder, sub, name)
        if e.get("expected_visible_text_asserted") is not None:
            main.score(name, text, None, [e["expected_visible_text_asserted"]])
        elif e["basis"] == "first_fragment_asserted":
            want = e.get("expected_first_fragment_trimmed")
            if want is None and name == "email_23_1.txt":
                # upstream asserts: 3 Lorem lines + "\n\nSomething wrote:\n" + 2 Lorem lines
                lines = common.split("\n")
                want = "\n".join(lines[:3]) + "\n\nSomething wrote:\n" + "\n".join(lines[3:])
            main.score(name, text, None, [want])
        elif e["basis"] == "computed_by_reference_impl":
            info.score(name, text, None, [e["visible_text_default_config"]])
    gen = json.loads((CORPUS / folder / "generated_from_templates.json").read_text())
    for name, g in gen.items():
        info.score(name, g["body"], None, [g["visible_text"]])
    return [main, info]


def bench_crisp() -> list[Row]:
    folder, sub = "crisp_email_reply_parser_js", "test/fixtures"
    exp = json.loads((CORPUS / folder / "expected.json").read_text())
    main, info = Row("crisp", "exact + first fragments"), Row("crisp", "computed, unsure", False)
    for name, e in sorted(exp.items()):
        text = _fixture(folder, sub, name)
        want = e.get("expected_visible_text_asserted") or e.get("expected_first_fragment_asserted")
        if want is not None:
            main.score(name, text, None, [want])
        elif e["basis"] == "computed_by_reference_impl":
            info.score(name, text, None, [e["visible_text_computed"]])
    return [main, info]


def bench_reference_sets(direct: bool) -> tuple[list[Row], int]:
    """The reply-trimming sets; returns the rows and how many cases the product path and
    clean_text disagree on."""
    sets = qs.reference_sets(CORPUS)
    cases = [c for group in sets.values() for c in group]
    shown = {} if direct else qs.through_product(cases)
    rows = []
    for folder, group in sets.items():
        row = Row(folder, "product path" if not direct else "parse + clean_text", reply_set=True)
        for case in group:
            plain, html = qs.parsed_inputs(case)
            if not direct and shown.get(case.message_id) is None:
                row.cases += 1
                row.details.append({"case": case.name, "not_stored": True})
                continue
            row.score(case.name, plain, html, case.alternatives(),
                      shown=None if direct else shown[case.message_id])
        rows.append(row)
    differ = sum(1 for r in rows for d in r.details if "product_differs" in d)
    return rows, differ


def bench_properties() -> list[Row]:
    """Raw-MIME corpora without expected clean text: parse, clean, check the properties."""
    from mailgate.parse import parse_message

    sets = {
        "zammad": ["test/data/mail/*.box", "upstream_newer_via_index/*.box",
                   "test/data/ticket_trigger/*", "spec/fixtures/files/smime/*.eml"],
        "mikel_mail_ruby": ["spec/fixtures/emails/**/*.eml"],
        "nodemailer_mailparser": ["test/fixtures/*.eml"],
    }
    rows = []
    for folder, globs in sets.items():
        row = Row(folder, "no crash, never empty (no reference)", False)
        for path in sorted({p for g in globs for p in (CORPUS / folder).glob(g) if p.is_file()}):
            try:
                msg = parse_message(path.read_bytes())
            except Exception:  # noqa: BLE001 - the parser's refusal, not the cleaner's
                continue
            has_text = bool((msg.text_plain or "").strip() or html_to_text(msg.text_html).strip())
            row.score(str(path.relative_to(CORPUS / folder)), msg.text_plain, msg.text_html, [""],
                      same=lambda got, _w, t=has_text: bool(got.strip()) == t)
        rows.append(row)
    return rows


def report(rows: list[Row], differ: int, elapsed: float, direct: bool) -> None:
    head = f"{'folder':<30} {'cases':>5} {'exact':>5} {'policy':>6} {'miss':>5} {'crash':>5}  policy rules"
    print(head)
    print("-" * len(head))
    for r in rows:
        rules = ", ".join(f"{k} {v}" for k, v in sorted(r.policy.items()))
        label = r.folder if r.targeted else f"{r.folder} (info: {r.label})"
        print(f"{label:<30} {r.cases:>5} {r.exact:>5} {sum(r.policy.values()):>6} {r.misses:>5} "
              f"{r.crashes:>5}  {rules}")
    print("-" * len(head))
    for title, pick in (("reply-trimming sets", lambda r: r.reply_set), ("all targeted", lambda r: r.targeted)):
        chosen = [r for r in rows if pick(r)]
        cases, exact = sum(r.cases for r in chosen), sum(r.exact for r in chosen)
        policy = sum(sum(r.policy.values()) for r in chosen)
        print(f"{'TOTAL ' + title:<30} {cases:>5} {exact:>5} {policy:>6} {cases - exact - policy:>5} "
              f"{sum(r.crashes for r in chosen):>5}")
    path = "parse + clean_text (--direct)" if direct else "product (import + ticket show --json)"
    print(f"new sets measured through: {path}; product and clean_text disagree on {differ} case(s)")
    print(f"({elapsed:.1f} s)")


def main() -> int:
    verbose, direct = "-v" in sys.argv, "--direct" in sys.argv
    if not CORPUS.is_dir():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    sets, differ = bench_reference_sets(direct)
    rows = bench_talon() + bench_willdurand() + bench_crisp() + sets + bench_properties()
    rows.sort(key=lambda r: not r.targeted)
    elapsed = time.perf_counter() - t0
    report(rows, differ, elapsed, direct)
    if verbose:
        for r in rows:
            for d in r.details:
                print(f"\n## {r.folder} / {d['case']}  [{d.get('policy') or 'MISS'}]")
                for k in ("expected", "got", "signature", "crash", "product_differs", "clean_text"):
                    if d.get(k):
                        print(f"-- {k}:\n{d[k]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "seconds": round(elapsed, 2), "path": "direct" if direct else "product",
        "product_clean_text_disagreements": differ,
        "rows": [{"folder": r.folder, "label": r.label, "targeted": r.targeted, "reply_set": r.reply_set,
                  "cases": r.cases,
                  "exact": r.exact, "policy": dict(r.policy), "misses": r.misses, "crashes": r.crashes,
                  "details": r.details} for r in rows],
    }, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
