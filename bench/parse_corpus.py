"""Corpus mail through the real pipeline (`mailgate import`): accounting and zammad agreement.

    ./.venv/bin/python bench/parse_corpus.py

Per corpus: messages in, stored, quarantined (with the reasons), duplicates, discarded,
seconds and messages per second. For zammad also how many of its 115 expected parse
results (expected_parsed.json) agree on sender address, subject and attachment count.
Prints a table and writes bench/results/parse_corpus.json.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from mailgate.cli import cli  # noqa: E402
from mailgate.cli.importer import iter_messages  # noqa: E402
from mailgate.parse import parse_message  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
CORPORA = {"zammad": ("**/*.box", "**/*.eml"), "mikel_mail_ruby": ("**/*.eml",),
           "nodemailer_mailparser": ("**/*.eml",)}
CONFIG = """
templates = "{templates}"
[gateway]
address = "helpdesk@example.com"
secret = "bench"
[store]
database = "sqlite:///store/mailgate.db"
[[queue]]
name = "general"
address = "helpdesk@example.com"
"""


def run(folder: Path, files: list[Path]) -> dict:
    work = folder / "work"
    (work / "mail").mkdir(parents=True)
    for i, path in enumerate(files):
        (work / "mail" / f"{i:04d}-{path.name}").symlink_to(path)
    config = work / "mailgate.toml"
    config.write_text(CONFIG.format(templates=ROOT / "templates"))
    runner = CliRunner()
    started = time.perf_counter()
    result = runner.invoke(cli, ["--config", str(config), "import", str(work / "mail"), "--json"])
    seconds = time.perf_counter() - started
    summary = json.loads(result.stdout)
    held = json.loads(runner.invoke(cli, ["--config", str(config), "quarantine", "list", "--json"]).stdout)
    reasons = Counter(re.sub(r"\(from .*", "", q["error"])[:70] for q in held)
    return {**summary, "stored": summary["tickets_created"] + summary["messages_threaded"],
            "quarantine_reasons": dict(reasons), "seconds": round(seconds, 2),
            "messages_per_second": round(len(files) / seconds, 1)}


def zammad_agreement() -> dict:
    root = CORPUS / "zammad"
    expected = json.loads((root / "expected_parsed.json").read_text())
    agree, disagree = 0, []
    for key, exp in sorted(expected.items()):
        path = next(iter(root.rglob(Path(key).name)))
        p = parse_message(next(iter(iter_messages(path)))[1])
        wanted = [a for a in exp["attachments"] if not (a.get("preferences") or {}).get("original-format")]
        norm = lambda a: re.sub(r'[\s"<>]', "", a or "").lower()  # noqa: E731
        ok = (norm(p.from_addr) == norm(exp["from_email"])
              and " ".join(p.subject.split()) == " ".join((exp["subject"] or "").split())
              and len(p.attachments) == len(wanted))
        if ok:
            agree += 1
        else:
            disagree.append(Path(key).name)
    return {"cases": len(expected), "agree": agree, "percent": round(100 * agree / len(expected), 1),
            "disagree": disagree}


def main() -> int:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, patterns in CORPORA.items():
            files = sorted({p for pat in patterns for p in (CORPUS / name).glob(pat) if p.is_file()})
            results[name] = run(Path(tmp) / name, files)
    results["zammad_agreement"] = zammad_agreement()
    print(f"{'corpus':24} {'in':>5} {'stored':>7} {'held':>5} {'dup':>4} {'disc':>5} {'msg/s':>7}")
    for name in CORPORA:
        r = results[name]
        print(f"{name:24} {r['messages']:>5} {r['stored']:>7} {r['quarantined']:>5} {r['duplicates']:>4} "
              f"{r['discarded']:>5} {r['messages_per_second']:>7}")
        for reason, n in r["quarantine_reasons"].items():
            print(f"    held {n:>3}: {reason}")
    z = results["zammad_agreement"]
    print(f"zammad from/subject/attachment count agree: {z['agree']}/{z['cases']} ({z['percent']}%); "
          f"differ: {', '.join(z['disagree'])}")
    out = ROOT / "bench" / "results" / "parse_corpus.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
