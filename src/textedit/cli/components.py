"""``textedit components``: the installed components, their origins and load failures."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "components",
        help="list registered components by kind, with origins and plug-in load failures",
        description="List the components of every kind (or one kind): built-ins and the "
        "plug-ins found through entry points. Each plug-in is imported to check that it "
        "loads, unless --no-import is given; the exit status is 1 when one failed to load.",
    )
    from textedit.registry.kinds import ENTRY_POINT_GROUPS

    p.add_argument("--kind", choices=list(ENTRY_POINT_GROUPS), help="only this kind")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--no-import", action="store_true", help="do not import plug-ins (no load check)"
    )
    p.set_defaults(run=run)


def collect(kind: str | None = None, load: bool = True) -> list[dict[str, Any]]:
    """One record per registered component: kind, name, qualified name, origin, status."""
    from textedit.registry.kinds import ENTRY_POINT_GROUPS, get_registry

    rows = []
    for k in [kind] if kind else list(ENTRY_POINT_GROUPS):
        registry = get_registry(k)
        entries = registry.load_all() if load else registry.entries()
        for e in entries:
            rows.append(
                {
                    "kind": k,
                    "group": ENTRY_POINT_GROUPS[k],
                    "name": registry.public_name(e),
                    "qualified_name": e.qualified_name,
                    "distribution": e.distribution,
                    "version": e.version,
                    "builtin": e.builtin,
                    "target": e.target,
                    "status": e.status,
                    "error": f"{type(e.error).__name__}: {e.error}" if e.error else None,
                    "description": _describe(e.obj),
                }
            )
    return rows


def _describe(obj: Any) -> str:
    desc = getattr(obj, "description", None)
    if isinstance(desc, str) and desc:
        return desc
    doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else ""


def run(args: argparse.Namespace) -> int:
    from textedit.registry.entry_points import AUTOLOAD_ENV, autoload_disabled
    from textedit.registry.kinds import ENTRY_POINT_GROUPS

    rows = collect(args.kind, load=not args.no_import)
    failed = [r for r in rows if r["status"] == "failed"]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 1 if failed else 0
    kinds = [args.kind] if args.kind else list(ENTRY_POINT_GROUPS)
    origins = [r["distribution"] + (f" {r['version']}" if r["version"] else "") for r in rows]
    name_width = max([28, *(len(r["name"]) + 1 for r in rows)])
    origin_width = max([24, *(len(o) + 1 for o in origins)])
    for kind in kinds:
        mine = [(r, o) for r, o in zip(rows, origins) if r["kind"] == kind]
        print(f"{kind} ({ENTRY_POINT_GROUPS[kind]}): {len(mine)}")
        for r, origin in mine:
            flag = {"loaded": "", "not loaded": " [not imported]", "failed": " [FAILED]"}[r["status"]]
            print(f"  {r['name']:<{name_width}} {origin:<{origin_width}} {r['description'][:60]}{flag}")
            if r["error"]:
                print(f"      error: {r['error']}")
    if autoload_disabled():
        print(f"(plug-in auto-loading is off: {AUTOLOAD_ENV} is set)")
    if failed:
        print(f"{len(failed)} plug-in(s) failed to load; see the errors above.", file=sys.stderr)
    _report_unknown_groups()
    return 1 if failed else 0


def _report_unknown_groups() -> None:
    """Name the entry-point groups that look like textedit's but are none of them (a
    misspelt group: its plug-ins are never found)."""
    from textedit.registry.entry_points import autoload_disabled, unknown_groups
    from textedit.registry.kinds import ENTRY_POINT_GROUPS

    if autoload_disabled():
        return
    known = list(ENTRY_POINT_GROUPS.values())
    for group, (distributions, close) in unknown_groups(known).items():
        hint = f"; did you mean {close!r}?" if close else f"; textedit reads {', '.join(known)}"
        print(
            f"warning: {', '.join(distributions)} declare(s) entry points in the group {group!r}, "
            f"which textedit does not read{hint}",
            file=sys.stderr,
        )
