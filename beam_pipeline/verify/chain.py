"""``verify --chain``: prove the archived ledgers are one unbroken piece of the real chain.

`verify` shows an archive is self-consistent; this shows its rows are the chain's. It streams the
``ledgers`` rows in sequence order (and each ledger's ``transactions`` rows beside them) and proves:

1. each row's ``ledger_hash`` is the SHA-256 of its ``ledger_header`` and its header columns are the
   header's (`chain_checks.check_header`);
2. each ledger's header names the previous ledger's hash as ``previousLedgerHash``, across files,
   partitions, days and runs: a gap, a duplicate or a wrong link is a *break* naming both ledgers;
3. where ``transactions`` is archived, each ledger's (hash, result) pairs hash to its header's
   ``txSetResultHash``, the ledgers row's counts are the ones those results give, and each
   envelope hashes to its transaction's hash under the network passphrase;
4. ``--trust LEDGER:HASH`` anchors (from a history archive, an explorer, stellar-core) match, and
   pin every ledger linked back from one;
5. the network passphrase each run recorded in its manifest is one and the same, and the one
   expected (``--network``, or the config's source ``network``).

Hash links only prove backwards: ledger N's hash fixes N-1's, and so on, while anyone can append a
ledger that names N as its predecessor. So the report tells which ledgers a trust anchor pins
(those at or before an anchor, linked to it without a break); without anchors the range is proven
to be one consistent chain, not which network's, beyond the recorded passphrase.

Exit code (in `cli`): 0 only when every ledger of the requested range is present and every check
and every anchor holds.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from beam_pipeline.verify.chain_checks import check_counts, check_envelopes, check_header, check_transactions
from beam_pipeline.verify.chain_source import ChainReadError, ChainRows
from beam_pipeline.verify.manifests import load_manifests
from beam_pipeline.verify.model import VerifyError
from beam_pipeline.verify.scan import list_table
from beam_pipeline.xdr.ledger import network_id

LISTED = 200  # problems listed in full; the rest are counted per kind


@dataclass(frozen=True)
class ChainTarget:
    """What to prove: the archive root, the ledger range, anchors, and the network expected."""

    root: str
    start: int | None
    end: int | None
    anchors: dict[int, str] = field(default_factory=dict)  # ledger -> lowercase hex hash
    network: str | None = None  # passphrase expected; None: only the manifests' agreement is checked
    transactions: bool | None = None  # None: when the archive has a transactions table


@dataclass
class ChainReport:
    """The outcome: what was proven, with what, and every break."""

    target: ChainTarget
    start: int = 0
    end: int = 0
    ledgers: int = 0
    proven: int = 0  # ledgers that passed every check of their own and link to the previous one
    first: tuple[int, str] | None = None
    last: tuple[int, str] | None = None
    transactions: int | None = None  # None: no transactions table to check
    tx_ledgers: int = 0
    anchors_used: list[tuple[int, str]] = field(default_factory=list)
    pinned: list[tuple[int, int]] = field(default_factory=list)
    network: str | None = None
    network_runs: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message), the first LISTED
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    warnings: list[str] = field(default_factory=list)

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < LISTED:
            self.problems.append((kind, message))

    @property
    def ok(self) -> bool:
        return not self.counts and self.ledgers == self.end - self.start + 1


def parse_anchor(text: str, where: str = "--trust") -> tuple[int, str]:
    """``LEDGER:HASH`` (or ``LEDGER HASH``) -> (ledger, lowercase hex); a ValueError names the bad part."""
    ledger, sep, value = text.strip().replace(" ", ":", 1).partition(":")
    value = value.strip().lower()
    if not sep or not ledger.strip().isdigit():
        raise ValueError(f"{where}: {text!r} is not LEDGER:HASH")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"{where}: {text!r}: the hash must be 64 hex digits")
    return int(ledger), value


def read_anchor_file(path: str) -> list[tuple[int, str]]:
    """One ``LEDGER:HASH`` or ``LEDGER HASH`` per line; blank lines and ``#`` comments skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValueError(f"--trust-file {path}: cannot read it: {e.strerror or e}") from None
    out = []
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(parse_anchor(" ".join(line.split()), f"{path}:{n}"))
    return out


def merge_anchors(anchors: list[tuple[int, str]]) -> dict[int, str]:
    """Anchors by ledger; two different hashes for one ledger are an error, not a choice."""
    out: dict[int, str] = {}
    for ledger, value in anchors:
        if out.setdefault(ledger, value) != value:
            raise ValueError(f"trust anchors disagree about ledger {ledger}: {out[ledger]} and {value}")
    return out


def verify_chain(target: ChainTarget) -> ChainReport:
    """Proves the archive at ``target.root``; raises VerifyError when it cannot be read at all."""
    from beam_pipeline.verify.run import ledger_range

    root = target.root.rstrip("/") or "/"
    manifests, unreadable = load_manifests(root)
    ledger_files, _ = list_table(root, "ledgers")
    if not ledger_files:
        raise VerifyError(f"{root}: no ledgers table: the chain is proven from its ledger headers")
    tx_files, _ = list_table(root, "transactions")
    with_tx = bool(tx_files) if target.transactions is None else target.transactions
    start, end = ledger_range(target.start, target.end, manifests, ledger_files)
    report = ChainReport(target, start, end)
    for problem in unreadable:
        report.warnings.append(problem)
    _check_network(report, manifests)
    with tempfile.TemporaryDirectory(prefix="verify-chain-") as workdir:
        rows = ChainRows(workdir)
        try:
            rows.load("ledgers", ledger_files, start, end)
            if with_tx:
                rows.load("transactions", tx_files, start, end)
                report.transactions = 0
                if not (target.network or report.network):
                    report.warnings.append("no single network passphrase recorded, none given (--network): "
                                           "envelopes not checked against their transaction hashes")
            _prove(rows, report, with_tx)
        except ChainReadError as e:
            raise VerifyError(str(e)) from None
        finally:
            rows.close()
    return report


def _check_network(report: ChainReport, manifests: list[dict]) -> None:
    """Every run that wrote ledgers of the range recorded one passphrase, the expected one if given."""
    recorded: dict[str, list[str]] = defaultdict(list)
    silent = []
    for m in manifests:
        span = m.get("ledger_range") or {}
        a, b = span.get("start"), span.get("end")
        if "ledgers" not in m.get("tables", ()) or (a is not None and a > report.end) or (
            b is not None and b < report.start
        ):
            continue
        if m.get("network_passphrase"):
            recorded[m["network_passphrase"]].append(m["run_id"])
        else:
            silent.append(m["run_id"])
    want = report.target.network
    if len(recorded) > 1:
        report.add("network", "runs recorded different network passphrases: " + "; ".join(
            f"{p!r} ({', '.join(runs)})" for p, runs in recorded.items()))
    for passphrase, runs in recorded.items():
        if want is not None and passphrase != want:
            report.add("network", f"run {runs[0]} recorded network {passphrase!r}, expected {want!r}")
    if silent:
        report.warnings.append(f"{len(silent)} run manifest(s) record no network passphrase (written before "
                               f"manifests did), e.g. {silent[0]}")
    if len(recorded) == 1:
        report.network = next(iter(recorded))
        report.network_runs = len(next(iter(recorded.values())))
    elif not recorded and want is not None:  # the envelopes' network hashes still test it
        report.warnings.append(f"no run manifest records a network passphrase to compare with {want!r}")


@dataclass
class _Segment:
    """Ledgers linked without a break; pinned up to the last anchor that matched inside it."""

    first: int
    last: int
    anchored: int | None = None


class _Prover:
    """One pass over the ledgers in sequence order, the transactions groups merged in beside them."""

    def __init__(self, rows: ChainRows, report: ChainReport, with_tx: bool):
        self.rows, self.report, self.with_tx = rows, report, with_tx
        self.anchors = report.target.anchors
        self.tx_groups = rows.transactions() if with_tx else iter(())
        self.pending = next(self.tx_groups, None)  # (ledger, rows) not yet matched with a ledgers row
        self.prev: tuple[int, str] | None = None  # (sequence, real hash hex)
        self.segments: list[_Segment] = []
        self.network = report.target.network or report.network  # expected, else the recorded one
        self.net_id = network_id(self.network) if self.network else None
        self.foreign: list[int] = []  # ledgers none of whose envelopes hash right under the network
        self.foreign_messages: list[str] = []
        self.tx_ledgers_with_txs = 0
        self.met: set[int] = set()  # anchors whose ledger was archived (matching or not)

    def run(self) -> None:
        report = self.report
        for row in self.rows.ledgers():
            seq = row["sequence"]
            if self.prev is not None and seq == self.prev[0]:
                where = self.rows.file_of("ledgers", row["file_no"])
                report.add("duplicate", f"ledger {seq} has more than one ledgers row (one in {where})")
                continue
            self._orphans(seq)
            problems_before = sum(report.counts.values())
            checked = check_header(row)
            for p in checked.problems:
                report.add("header", p)
            real = checked.hash.hex()
            self._link(seq, checked.previous_hash or row["previous_ledger_hash"], bool(checked.problems))
            if seq in self.anchors:
                self._anchor(seq, real, bool(checked.problems))
            self._transactions(row, checked)
            report.ledgers += 1
            report.proven += sum(report.counts.values()) == problems_before
            report.first = report.first or (seq, real)
            report.last = self.prev = (seq, real)
        self._orphans(None)
        self._ends()
        self._foreign_envelopes()
        report.pinned = [(s.first, s.anchored) for s in self.segments if s.anchored is not None]

    def _link(self, seq: int, linked_to: str, bad: bool) -> None:
        """A break when ledgers are missing before `seq` or its header names another predecessor."""
        report, prev = self.report, self.prev
        broken = True
        if prev is None:
            if seq > report.start:
                report.add("break", f"ledgers {_span(report.start, seq - 1)} are missing before ledger {seq}, "
                                    f"the first in the range {report.start}-{report.end}")
        elif seq != prev[0] + 1:
            report.add("break", f"break between ledger {prev[0]} and ledger {seq}: "
                                f"ledgers {_span(prev[0] + 1, seq - 1)} are missing")
        elif linked_to != prev[1]:
            report.add("break", f"break between ledger {prev[0]} and ledger {seq}: ledger {seq}'s "
                                f"previous_ledger_hash {linked_to} is not ledger {prev[0]}'s hash {prev[1]}")
        else:
            broken = False
        if broken or bad or not self.segments:
            self.segments.append(_Segment(seq, seq))
        self.segments[-1].last = seq

    def _anchor(self, seq: int, real: str, bad: bool) -> None:
        want = self.anchors[seq]
        self.met.add(seq)
        if want == real and not bad:
            self.report.anchors_used.append((seq, real))
            self.segments[-1].anchored = seq
        else:
            self.report.add("anchor", f"trust anchor {seq}: expected hash {want}, the archive's ledger {seq} "
                                      f"hashes to {real}" + (" but fails the checks above" if want == real else ""))

    def _transactions(self, row: dict, checked) -> None:
        seq = row["sequence"]
        txs = []
        if self.pending is not None and self.pending[0] == seq:
            txs = self.pending[1]
            self.pending = next(self.tx_groups, None)
        if not self.with_tx or checked.header is None:
            return
        result = check_transactions(seq, checked.header, txs)
        for p in result.problems:
            self.report.add("results", p)
        for p in check_counts(row, result):
            self.report.add("counts", p)
        if self.net_id is not None and txs:
            wrong, message = check_envelopes(seq, txs, self.net_id, self.network)
            if wrong == len(txs):  # every one: another network, unless other ledgers are fine (end of run)
                self.foreign.append(seq)
                if len(self.foreign_messages) < LISTED:
                    self.foreign_messages.append(message)
            elif message:
                self.report.add("envelopes", message)
            self.tx_ledgers_with_txs += 1
        self.report.transactions += len(txs)
        self.report.tx_ledgers += 1

    def _orphans(self, before: int | None) -> None:
        """Transactions groups of ledgers that have no ledgers row (all remaining ones when `before` is None)."""
        while self.pending is not None and (before is None or self.pending[0] < before):
            self.report.add("orphan", f"ledger {self.pending[0]}: {len(self.pending[1])} transactions rows "
                                      "but no ledgers row")
            self.pending = next(self.tx_groups, None)

    def _foreign_envelopes(self) -> None:
        """One line when no envelope at all hashes right (the wrong network), else a line per ledger."""
        if not self.foreign:
            return
        if len(self.foreign) == self.tx_ledgers_with_txs:
            self.report.add("network", f"no tx_envelope of the {len(self.foreign)} ledgers with transactions "
                                       f"({_span(self.foreign[0], self.foreign[-1])}) hashes to its transaction_hash "
                                       f"under network {self.network!r}: they were made for another network")
        else:
            for message in self.foreign_messages:
                self.report.add("envelopes", message)
            for _ in self.foreign[len(self.foreign_messages):]:
                self.report.counts["envelopes"] += 1

    def _ends(self) -> None:
        """The range's end, and anchors that no archived ledger met."""
        report = self.report
        if self.prev is None:
            report.add("break", f"no ledgers rows in the range {report.start}-{report.end}")
        elif self.prev[0] < report.end:
            report.add("break", f"ledgers {_span(self.prev[0] + 1, report.end)} are missing after ledger "
                                f"{self.prev[0]}, the last archived in the range {report.start}-{report.end}")
        for ledger in sorted(self.anchors):
            if not report.start <= ledger <= report.end:
                report.add("anchor", f"trust anchor {ledger} is outside the range {report.start}-{report.end}")
            elif ledger not in self.met:
                report.add("anchor", f"trust anchor {ledger}: the archive has no ledgers row for ledger {ledger}")


def _prove(rows: ChainRows, report: ChainReport, with_tx: bool) -> None:
    _Prover(rows, report, with_tx).run()


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def format_chain_report(report: ChainReport) -> str:
    """The report: range, network, what was proven (first and last), anchors, then every problem."""
    t = report.target
    lines = [f"verify --chain {t.root}: ledgers {report.start}-{report.end}"]
    if report.network:
        expected = "" if t.network is None else (", as expected" if t.network == report.network else
                                                 f"; expected {t.network!r}")
        lines.append(f"  network: {report.network!r} (recorded by {report.network_runs} run(s){expected})")
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    total = report.end - report.start + 1
    lines.append(f"  ledgers: {report.ledgers:,} of {total:,} archived and checked, {report.proven:,} proven")
    if report.first:
        lines.append(f"  first: ledger {report.first[0]} hash {report.first[1]}")
        lines.append(f"  last:  ledger {report.last[0]} hash {report.last[1]}")
    if report.transactions is None:
        lines.append("  transactions: not checked (no transactions table, or not in --tables)")
    else:
        lines.append(f"  transactions: {report.transactions:,} in {report.tx_ledgers:,} ledgers checked "
                     "against their headers' txSetResultHash"
                     + (" and their envelopes' network hashes" if (t.network or report.network) else ""))
    if t.anchors:
        used = ", ".join(f"{s}" for s, _ in report.anchors_used) or "none matched"
        lines.append(f"  trust anchors: {len(t.anchors)} given, used: {used}")
        pinned = ", ".join(_span(a, b) for a, b in report.pinned) or "none"
        lines.append(f"  pinned to a trust anchor: ledgers {pinned}")
    else:
        lines.append("  trust anchors: none given (the chain is proven consistent, not pinned to a known hash)")
    if report.problems:
        lines.append("  problems:")
    for kind, message in report.problems:
        lines.append(f"    {kind}: {message}")
    listed = len(report.problems)
    if sum(report.counts.values()) > listed:
        more = ", ".join(f"{k} {n}" for k, n in sorted(report.counts.items()))
        lines.append(f"  ... {sum(report.counts.values()) - listed} more problems (in all: {more})")
    if report.ok:
        lines.append(f"result: ok, ledgers {report.start}-{report.end} are proven to be one chain"
                     + (" pinned to the trust anchors" if _all_pinned(report) else ""))
    else:
        lines.append("result: FAILED, the range is not proven")
    return "\n".join(lines)


def _all_pinned(report: ChainReport) -> bool:
    return bool(report.pinned) and report.pinned[0][0] == report.start and report.pinned[-1][1] == report.end
