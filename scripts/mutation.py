"""Mutation testing of the connector's core files (not part of CI; a few minutes per file).

Run:  bash scripts/mutation.sh                      # every core file
      bash scripts/mutation.sh auth cursor          # some of them (names from CORE below)
      bash scripts/mutation.sh --keep auth          # keep the workspace to inspect the mutants

scripts/mutation.sh installs the `mutation` extra (mutmut, pinned) with constraints.txt, then runs this.
For each core file, mutmut (default operators) mutates only that file in a throw-away copy of the
project and runs, per mutant, only the tests of that file's test modules that reach the mutated
function. The report gives, per file: mutants, killed (a timeout counts as killed), survivors, and the
survivors left out because they change nothing observable (each with its reason, from LEFT_OUT below),
then killed % = killed / (mutants - left out). A survivor not in LEFT_OUT is a blind spot: write a
behaviour test for it, or (only if it truly changes nothing a user or Zoho could see) add it to LEFT_OUT.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_PERCENT = 90.0


@dataclass(frozen=True)
class Core:
    """A core file, the test modules that cover it, and (optionally) the only functions counted."""

    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()


_READ_TESTS = (
    "unit_tests/test_module_reader.py",
    "unit_tests/test_module_reader_id_order.py",
    "unit_tests/test_module_reader_failures.py",
    "unit_tests/test_no_loss.py",
    "unit_tests/test_wide_no_loss.py",
    "unit_tests/test_chunk_fetch.py",
)
_TOMBSTONE_TESTS = (
    "unit_tests/test_deleted_records.py",
    "unit_tests/test_tombstones.py",
    "unit_tests/test_tombstone_clock.py",
    "unit_tests/test_restore_watch.py",
)

CORE: dict[str, Core] = {
    "module_reader": Core("source_zoho_crm/module_reader.py", _READ_TESTS),
    "module_requests": Core("source_zoho_crm/module_requests.py", _READ_TESTS),
    "id_chains": Core("source_zoho_crm/id_chains.py", ("unit_tests/test_id_chains.py", *_READ_TESTS)),
    "cursor": Core(
        "source_zoho_crm/cursor.py",
        ("unit_tests/test_cursor.py", *_READ_TESTS, *_TOMBSTONE_TESTS, "unit_tests/test_inputs.py"),
    ),
    "deleted_records": Core("source_zoho_crm/deleted_records.py", _TOMBSTONE_TESTS),
    "auth": Core(
        "source_zoho_crm/auth.py",
        (
            "unit_tests/test_auth.py",
            "unit_tests/test_auth_refresh.py",
            "unit_tests/test_token_store.py",
            "unit_tests/test_api_client.py",
        ),
    ),
    "token_errors": Core("source_zoho_crm/token_errors.py", ("unit_tests/test_token_errors.py",)),
    "token_store": Core("source_zoho_crm/token_store.py", ("unit_tests/test_token_store.py",)),
    # The tombstones that follow a module stream's records (split from module_stream.py).
    "tombstones": Core("source_zoho_crm/tombstones.py", _TOMBSTONE_TESTS),
}


@dataclass(frozen=True)
class LeftOut:
    """Survivors of `function` whose mutated lines contain `needle`: they change nothing observable."""

    file: str
    function: str
    needle: str
    reason: str


_AUTH = "source_zoho_crm/auth.py"
_ERRORS = "source_zoho_crm/token_errors.py"
_STORE = "source_zoho_crm/token_store.py"
_INFO_LOG = "text of an info log line (no decision depends on it)"
_NEVER_READ = "the token is None here, so token() refreshes before it ever reads _refresh_at"
_INF_LAST = "a kept token of unknown expiry still sorts before any usable one (all expire after 1970)"
_OVERWRITTEN = "the initial last_problem is overwritten by every attempt before it is read"
_TIMEOUT = "the timeout's exact seconds (tuning; a test that a timeout is set kills its removal)"
_Z = "Python 3.11's fromisoformat reads a trailing Z itself"
_NAME = "the cache file name is opaque: any fixed name per credentials behaves the same"
_TMPNAME = "the temporary file's name is never seen"
_STREAM = "source_zoho_crm/tombstones.py"
_DELETED = "source_zoho_crm/deleted_records.py"
_HEADER_CASE = "HTTP header names are case-insensitive"
_CURSOR = "source_zoho_crm/cursor.py"
_READER = "source_zoho_crm/module_reader.py"
_REQUESTS = "source_zoho_crm/module_requests.py"
_SET_FIRST = "every list call sets it before add_other_chunks reads it"
_NOT_A_CHAIN = "a deferred side call is never a chain's (no page_token in its params)"
_WHEN_ASKED = "when the other chunks are asked (with the first chunk or after it): same calls and records"
_BOUNDARY = "it only prunes the boundary memory; keeping more keys emits the same records"
_FULL_REFRESH = "only full refreshes get here (incremental reads raise first): no cursor reads `checkpoint`"
_UNCALLED = "a Cursor method the CDK's concurrent read never calls here (the partitions are the connector's)"
_CLOSE = "the stream's close_partition emits the same state right after (this line changes nothing)"
_TMPDIR = "the temporary file elsewhere on the same file system: the replace is still atomic"

# (file, function, fragment of the mutated line, why the mutant changes nothing observable)
LEFT_OUT: tuple[LeftOut, ...] = tuple(
    LeftOut(*entry)
    for entry in (
        (_AUTH, "ZohoTokenProvider.__init__", "self._refresh_at =", _NEVER_READ),
        (_AUTH, "ZohoTokenProvider.invalidate", "self._refresh_at =", _NEVER_READ),
        (_AUTH, "ZohoTokenProvider.invalidate", 'self._token = ""', "'' instead of None: still refreshed"),
        (_AUTH, "ZohoTokenProvider._adopt", "+1.0 if", _INF_LAST),
        (_AUTH, "ZohoTokenProvider._adopt", "-2.0 if", _INF_LAST),
        (
            _AUTH,
            "ZohoTokenProvider._adopt",
            ") >= now]",
            "a token adopted at its refresh time is refreshed first",
        ),
        (_AUTH, "ZohoTokenProvider._adopt", "logger.info(", _INFO_LOG),
        (_AUTH, "ZohoTokenProvider._took", "logger.info(", _INFO_LOG),
        (_AUTH, "ZohoTokenProvider._refresh_locked", 'last_problem = "', _OVERWRITTEN),
        (_AUTH, "ZohoTokenProvider._refresh_locked", "last_problem = None", _OVERWRITTEN),
        (
            _AUTH,
            "ZohoTokenProvider._refresh_locked",
            "_message(problem, None)",
            "only transient problems reach this line, and their messages do not use the config",
        ),
        (_AUTH, "ZohoTokenProvider._refresh_locked", "timeout=(1", _TIMEOUT),
        (_AUTH, "ZohoTokenProvider._refresh_locked", ", 61)", _TIMEOUT),
        (_AUTH, "_json_or_none", "or True", "orjson.loads(b'') raises JSONDecodeError, caught into None"),
        (
            _AUTH,
            "shared_token_provider",
            '"XX\\nXX".join',
            "another separator: still one key per credentials",
        ),
        (_ERRORS, "classify_token_error", 'not in (None, "XXXX")', "an empty code gives '' either way"),
        (_ERRORS, "_throttle_shape", 'or "XXXX")', "a missing status is not 'failure' either way"),
        (
            _ERRORS,
            "TokenError.named",
            "not self.code and self.code",
            "kinds with a usual code come from that table, so their code is never empty",
        ),
        (
            _ERRORS,
            "TokenError.named",
            "not canonical and not self.code",
            "without a usual code the message holds no '(None)' to replace",
        ),
        (_STORE, "_expiry", 'replace("XXZXX"', _Z),
        (_STORE, "_expiry", 'replace("z"', _Z),
        (_STORE, "_expiry", "return 1.0", "1970-01-01T00:00:01 is as expired as the epoch"),
        (_STORE, "TokenCacheFile.__init__", '"XX\\nXX".join', _NAME),
        (_STORE, "TokenCacheFile.__init__", "key[:41]", _NAME),
        (_STORE, "TokenCacheFile.save", "prefix=None", _TMPNAME),
        (_STORE, "TokenCacheFile.save", "mkstemp(dir=directory)", _TMPNAME),
        (_STORE, "TokenCacheFile.save", "XX.token-XX", _TMPNAME),
        (_STORE, "TokenCacheFile.save", ".TOKEN-", _TMPNAME),
        (_STORE, "TokenCacheFile.save", 'mkstemp(prefix=".token-", )', _TMPDIR),
        (_STORE, "TokenCacheFile.save", "dir=None", _TMPDIR),
        (_STORE, "TokenCacheFile.save", "missing_ok=", "the temporary file exists when it is removed"),
        (_STORE, "TokenCacheFile.save", "logger.info(", _INFO_LOG),
        (_STORE, "RunTokenStore.save", "logger.info(", _INFO_LOG),
        (_DELETED, "deleted_pages", '{"if-modified-since":', _HEADER_CASE),
        (_DELETED, "deleted_pages", '{"IF-MODIFIED-SINCE":', _HEADER_CASE),
        (_DELETED, "_newest_deleted_time", "instant >= newest", "an equal instant is the same newest"),
        (_DELETED, "_newest_deleted_time", 'or "XXXX")', "a missing time fails to parse either way"),
        (
            _CURSOR,
            "not_in_future",
            "value < now + FUTURE_MARGIN",
            "the boundary to the microsecond of datetime.now(), which is read inside: not testable",
        ),
        (
            _CURSOR,
            "ModuleCursor.advance",
            "newest_on_page >= self._newest",
            "an equal instant changes nothing",
        ),
        (
            _CURSOR,
            "ModuleCursor.ensure_at_least_one_state_emitted",
            "self._emit(force=",
            "force only matters when the state equals the last emitted one, and nothing was emitted yet",
        ),
        (_CURSOR, "ModuleCursor.should_be_synced", "return", _UNCALLED),
        (_CURSOR, "ModuleCursor.stream_slices", "StreamSlice(", _UNCALLED),
        (
            _STREAM,
            "ModuleTombstones.read",
            "page.newest >= newest",
            "an equal instant is the same newest",
        ),
        (_STREAM, "ModuleTombstones.read", "first = None", "None is as false as False"),
        (
            _DELETED,
            "RestoreWatch.check_watched",
            "if len(self.watched) >= RESTORE_WATCH_LIMIT",
            "at exactly the limit nothing is dropped either way (only the log line differs)",
        ),
        (_READER, "ModuleReader._dense_second", "found_new = None", "None is as false as False"),
        (
            _READER,
            "ModuleReader._pages_in_id_order",
            'began = ""',
            "'' or the first page's Date (or None) is that",
        ),
        (
            _READER,
            "ModuleReader._pages_in_id_order",
            "if (self._incremental) or True",
            "a full refresh has no cursor (FinalStateCursor): a page's newest is never read",
        ),
        (
            _READER,
            "ModuleReader._pages_in_id_order",
            "+ return",
            "after this break the chain was not cut, so the function returns anyway",
        ),
        (_READER, "ModuleReader._fresh_page", "strict=", "`instants` is built from `records`: equal lengths"),
        (_READER, "ModuleReader._first_pages", "inclusive = None", "None is as false as False"),
        (_READER, "ModuleReader.__init__", "self._ims_ignored = None", "None is as false as False"),
        (
            _READER,
            "ModuleReader.__init__",
            "if (self._incremental) or True",
            "a full refresh never reads _start",
        ),
        (_READER, "ModuleReader._first_pages", "_forget_before(", _BOUNDARY),
        (_READER, "ModuleReader.pages", "page.checkpoint = None", "None is as false as False"),
        (_READER, "ModuleReader.pages", "page.checkpoint = True", _FULL_REFRESH),
        (_READER, "ModuleReader._pages_in_id_order", "page.checkpoint = None", "None is as false as False"),
        (_READER, "ModuleReader._pages_in_id_order", "page.checkpoint = True", _FULL_REFRESH),
        (_READER, "ModuleReader._pages_in_id_order", "checkpoint=None)", "None is as false as False"),
        (
            _READER,
            "ModuleReader._pages_in_id_order",
            "Page(records, checkpoint=False)",
            "newest defaults to None",
        ),
        (_REQUESTS, "ModuleRequests.__init__", "self.chain_cut = ", "chain() sets it before it is read"),
        (_REQUESTS, "ModuleRequests.__init__", 'self._side: tuple[Any, ...] | None = ""', _SET_FIRST),
        (_REQUESTS, "ModuleRequests.__init__", "self._expect_more = None", "None is as false as False"),
        (_REQUESTS, "ModuleRequests.chain", "self.chain_cut = None", "None is as false as False"),
        (_REQUESTS, "ModuleRequests.chain", 'token: str | None = ""', "'' is as false as None"),
        (_REQUESTS, "ModuleRequests.add_other_chunks", 'self._side = ""', _SET_FIRST),
        (_REQUESTS, "ModuleRequests.add_other_chunks", "chained=None", _NOT_A_CHAIN),
        (_REQUESTS, "ModuleRequests.add_other_chunks", "chained=True", _NOT_A_CHAIN),
        (
            _REQUESTS,
            "ModuleRequests.add_other_chunks",
            "if self.fetcher.wide or self._side",
            "a narrow module has no other chunk: its merge is a no-op",
        ),
        (_REQUESTS, "ModuleRequests.list", "self._expect_more = ", _WHEN_ASKED),
        (_REQUESTS, "ModuleRequests.list", "if self.fetcher.wide and (chain", _WHEN_ASKED),
        (
            _REQUESTS,
            "ModuleRequests.changed_while_read",
            "what=None",
            "the name is only in an error this function catches and logs at info level",
        ),
        (
            _REQUESTS,
            "ModuleRequests.changed_while_read",
            "instant > since",
            "a record changed in the second before the chain began was read after that change",
        ),
        (
            _REQUESTS,
            "ModuleRequests.changed_while_read",
            "len(stale) > chain_limit",
            "a safety cap's boundary",
        ),
        (_REQUESTS, "ModuleRequests.list_params", '"fields": ",".join(', "a spec always has a first chunk"),
        (_REQUESTS, "ModuleRequests.new_deletions", '{"if-modified-since":', _HEADER_CASE),
        (_REQUESTS, "ModuleRequests.list", '{"if-modified-since":', _HEADER_CASE),
        (_REQUESTS, "ModuleRequests.list", '{"IF-MODIFIED-SINCE":', _HEADER_CASE),
        (_REQUESTS, "ModuleRequests.changed_while_read", '{"if-modified-since":', _HEADER_CASE),
        (_REQUESTS, "ModuleRequests.changed_while_read", '{"IF-MODIFIED-SINCE":', _HEADER_CASE),
        (_REQUESTS, "ModuleRequests.new_deletions", '{"IF-MODIFIED-SINCE":', _HEADER_CASE),
        (
            _REQUESTS,
            "ModuleRequests.new_deletions",
            "what=None",
            "the name is only in an error this function catches and logs at info level",
        ),
        (_STREAM, "ModuleTombstones.read", "cursor.advance(None", _CLOSE),
    )
)


@dataclass
class FileResult:
    core: Core
    killed: list[str] = field(default_factory=list)
    survived: list[tuple[str, str]] = field(default_factory=list)
    left_out: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return len(self.killed) + len(self.survived) + len(self.left_out)

    @property
    def percent(self) -> float:
        counted = len(self.killed) + len(self.survived)
        return 100.0 * len(self.killed) / counted if counted else 100.0


def _workspace(core: Core) -> Path:
    """A copy of the project with a mutmut config for this one file (mutmut writes mutants/ in cwd)."""
    work = Path(tempfile.mkdtemp(prefix="zoho-mutation-"))
    for name in ("source_zoho_crm", "zoho_crm_emulator", "unit_tests"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    lines = ["[mutmut]", "source_paths=source_zoho_crm", f"only_mutate={core.path}", "also_copy="]
    lines += ["    unit_tests", "    zoho_crm_emulator", "pytest_add_cli_args_test_selection="]
    lines += [f"    {test}" for test in core.tests if (ROOT / test).exists()]
    lines += ["pytest_add_cli_args=", "    -p", "    no:cacheprovider", "    -q"]
    (work / "setup.cfg").write_text("\n".join(lines) + "\n")
    return work


def _mutant_globs(core: Core) -> list[str]:
    """mutmut's names for the mutants of the counted functions (all of the file's when none given)."""
    module = core.path.removesuffix(".py").replace("/", ".")
    return [f"{module}.*{function}__mutmut_*" for function in core.functions]


def _functions(source: str) -> dict[str, str]:
    """Each mutant function's source (and the original's, `..._mutmut_orig`), by name."""
    lines = source.splitlines()
    return {
        node.name: "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }


def _diff(functions: dict[str, str], mutant: str) -> str:
    """The mutated lines of one mutant, as `-old / +new`."""
    local = mutant.rsplit(".", 1)[1]
    original = functions.get(local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "")
    changed = difflib.unified_diff(original.splitlines(), functions.get(local, "").splitlines(), n=0)
    return "\n".join(
        line[0] + " " + line[1:].strip()
        for line in changed
        if line[:1] in "+-"
        and not line.startswith(("+++", "---"))
        and not line[1:].lstrip().startswith("def ")
    )


def _only_in_an_info_log(functions: dict[str, str], mutant: str) -> bool:
    """Whether every line the mutant changes lies inside a `logger.info(...)` / `.debug(...)` call."""
    local = mutant.rsplit(".", 1)[1]
    original = functions.get(local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", "").splitlines()
    mutated = functions.get(local, "").splitlines()
    changed = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, original, mutated).get_opcodes():
        if tag != "equal":
            changed.update(range(i1, max(i2, i1 + 1)))
    changed.discard(0)  # the def line carries the mutant's name
    inside: set[int] = set()
    for node in ast.walk(ast.parse(textwrap.dedent("\n".join(original)))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("info", "debug")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("logger", "_logger")
        ):
            inside.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return bool(changed) and changed <= inside


def _function_of(mutant: str) -> str:
    """`source_zoho_crm.auth.xǁZohoTokenProviderǁtoken__mutmut_3` -> `ZohoTokenProvider.token`."""
    local = mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    return local[1:].replace("ǁ", ".").strip(".") if local.startswith("xǁ") else local[2:]


def _left_out_reason(core: Core, function: str, diff: str) -> str | None:
    added = "\n".join(line for line in diff.splitlines() if line.startswith("+"))
    for entry in LEFT_OUT:
        if entry.file == core.path and entry.function == function and entry.needle in added:
            return entry.reason
    return None


def run_file(core: Core, max_children: int, keep: bool) -> FileResult:
    work = _workspace(core)
    mutmut = Path(sys.executable).parent / "mutmut"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        run = subprocess.run(
            [str(mutmut), "run", "--max-children", str(max_children), *_mutant_globs(core)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        meta_path = work / "mutants" / (core.path + ".meta")
        if not meta_path.exists():
            output = (run.stdout + run.stderr)[-3000:]
            sys.exit(f"mutmut failed on {core.path} (exit {run.returncode}):\n{output}")
        exit_codes: dict[str, int | None] = json.loads(meta_path.read_text())["exit_code_by_key"]
        functions = _functions((work / "mutants" / core.path).read_text())
    finally:
        if keep:
            print(f"workspace kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result = FileResult(core)
    for mutant, code in sorted(exit_codes.items()):
        function = _function_of(mutant)
        if core.functions and not any(part in function for part in core.functions):
            continue
        # mutmut: 1 = a test failed (killed), negative = timed out (killed), 0 = survived,
        # 33 = no test reaches the function (survived), None = not run.
        if code is not None and code != 0 and code != 33:
            result.killed.append(mutant)
            continue
        diff = _diff(functions, mutant)
        reason = _left_out_reason(core, function, diff) or (
            _INFO_LOG if _only_in_an_info_log(functions, mutant) else None
        )
        if reason:
            result.left_out.append((function, diff, reason))
        else:
            result.survived.append((function, diff))
    return result


def report(result: FileResult) -> None:
    core = result.core
    scope = f" (only {', '.join(core.functions)}*)" if core.functions else ""
    print(f"\n== {core.path}{scope}")
    print(
        f"   mutants {result.mutants}, killed {len(result.killed)}, survived {len(result.survived)}, "
        f"left out {len(result.left_out)}: killed {result.percent:.1f}%"
    )
    for function, diff, reason in result.left_out:
        print(f"   left out  {function}: {reason}\n{_indent(diff)}")
    for function, diff in result.survived:
        print(f"   SURVIVED  {function}\n{_indent(diff)}")


def _indent(diff: str) -> str:
    return "\n".join(f"             {line}" for line in diff.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help=f"core files (default: all): {', '.join(CORE)}")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (mutants/) to inspect")
    args = parser.parse_args(argv)
    unknown = [name for name in args.files if name not in CORE]
    if unknown:
        parser.error(f"unknown core file(s) {', '.join(unknown)}; choose from {', '.join(CORE)}")
    results = []
    for name in args.files or CORE:
        results.append(run_file(CORE[name], args.max_children, args.keep))
        report(results[-1])
        sys.stdout.flush()
    print("\nSummary (killed % of mutants not left out):")
    for result in results:
        mark = "ok" if result.percent >= TARGET_PERCENT else f"below {TARGET_PERCENT:.0f}%"
        print(f"   {result.core.path:40} {result.mutants:4} mutants  {result.percent:5.1f}%  {mark}")
    return 0 if all(result.percent >= TARGET_PERCENT for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
