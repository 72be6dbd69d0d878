"""``citizens register|import|revoke|rotate|delegate``: memberships, written through :class:`Citizens`."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import click
from eth_utils.address import is_address, to_checksum_address
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from civicdao.citizens import Citizens, RevocationReason
from civicdao.cli_options import stderr
from civicdao.commands._common import Opened, print_result, tx_json, write_command
from civicdao.errors import CivicDAOError, ConfigError

__all__ = ["COMMANDS", "ImportInterruptedError", "ImportRow", "read_import_csv"]

_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ZERO_HASH = "0x" + "0" * 64
#: Most bad rows named in the one-line error (the count covers the rest).
_SHOWN_ERRORS = 5


class ImportInterruptedError(CivicDAOError):
    """A registration of an import failed; those before it are done, and a rerun continues after them."""


@click.command("register")
@write_command
@click.argument("address")
@click.option(
    "--credential-hash",
    required=True,
    help="The resident's salted credential hash, 0x + 64 hex digits (credential_hash(credential, salt=…)).",
)
def register(opened: Opened, *, as_json: bool, address: str, credential_hash: str) -> None:
    """Issue a membership to ADDRESS (the signer must be a registrar)."""
    done = Citizens.from_suite(opened.suite).register(opened.signer, address, _hash(credential_hash))
    print_result(
        as_json,
        {
            "citizen": done.citizen,
            "membershipId": str(done.membership_id),
            "credentialHash": "0x" + done.credential_hash.hex(),
            **tx_json(done.tx),
        },
        f"{done.citizen} is citizen #{done.membership_id} (tx {done.tx.tx_hash})",
    )


@dataclass(frozen=True)
class ImportRow:
    """One resident of an import file, with the line it came from."""

    line: int
    address: str
    credential_hash: str


def read_import_csv(path: str | Path) -> list[ImportRow]:
    """Read and check a whole ``address,credential_hash`` file before anything is sent.

    A header line naming the columns is allowed; blank lines and ``#`` comments are skipped.

    Raises:
        ConfigError: naming the bad lines (malformed address or hash, a duplicate address or hash).
    """
    rows: list[ImportRow] = []
    problems: list[str] = []
    seen_addresses: dict[str, int] = {}
    seen_hashes: dict[str, int] = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    for number, cells in enumerate(lines, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "address":
            continue
        if len(cells) != 2:
            problems.append(f"line {number}: expected 2 columns (address,credential_hash), got {len(cells)}")
            continue
        address, digest = cells
        if not is_address(address) or int(address, 16) == 0:
            problems.append(f"line {number}: {address[:44]!r} is not an address")
            continue
        if not _HASH.match(digest) or digest == _ZERO_HASH:
            problems.append(f"line {number}: the credential hash must be 0x + 64 hex digits, not zero")
            continue
        address, digest = to_checksum_address(address), digest.lower()
        if address in seen_addresses:
            problems.append(f"line {number}: {address} already on line {seen_addresses[address]}")
            continue
        if digest in seen_hashes:
            problems.append(f"line {number}: credential hash already on line {seen_hashes[digest]}")
            continue
        seen_addresses[address], seen_hashes[digest] = number, number
        rows.append(ImportRow(number, address, digest))
    if problems:
        more = f" (and {len(problems) - _SHOWN_ERRORS} more)" if len(problems) > _SHOWN_ERRORS else ""
        raise ConfigError(
            f"{path}: {len(problems)} bad row(s), nothing was sent: "
            + "; ".join(problems[:_SHOWN_ERRORS])
            + more
            + ". Fix them and run again."
        )
    if not rows:
        raise ConfigError(f"{path} lists no resident: one `address,credential_hash` per line")
    return rows


@click.command("import")
@write_command
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_(opened: Opened, *, as_json: bool, csv_file: str) -> None:
    """Onboard residents from a CSV of `address,credential_hash` (resumable: a rerun skips those done).

    The whole file is checked first: a bad row is reported with its line number and nothing is sent.
    Addresses already registered and credential hashes already used are skipped, so after an interruption
    the same command continues where it stopped.
    """
    rows = read_import_csv(csv_file)
    citizens = Citizens.from_suite(opened.suite)
    registered: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    progress = Progress(
        TextColumn("[dim]registering[/dim]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[new]} new, {task.fields[skipped]} skipped"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=as_json or not stderr.is_terminal,
    )
    with progress:
        task = progress.add_task("import", total=len(rows), new=0, skipped=0)
        for row in rows:
            reason = _skip_reason(citizens, row)
            if reason:
                skipped.append({"line": row.line, "address": row.address, "reason": reason})
            else:
                try:
                    done = citizens.register(
                        opened.signer, row.address, bytes.fromhex(row.credential_hash[2:])
                    )
                except CivicDAOError as exc:
                    raise ImportInterruptedError(
                        f"line {row.line} ({row.address}) failed after {len(registered)} new registrations: "
                        f"{str(exc).rstrip('.')}. Fix the cause and run the same command again to continue."
                    ) from exc
                registered.append(
                    {
                        "line": row.line,
                        "address": done.citizen,
                        "membershipId": str(done.membership_id),
                        "txHash": done.tx.tx_hash,
                    }
                )
            progress.update(task, advance=1, new=len(registered), skipped=len(skipped))
    print_result(
        as_json,
        {"file": csv_file, "rows": len(rows), "registered": registered, "skipped": skipped},
        f"{csv_file}: {len(registered)} residents registered, {len(skipped)} skipped "
        f"(already registered or credential used); {citizens.citizen_count()} citizens in all",
    )


def _skip_reason(citizens: Citizens, row: ImportRow) -> str | None:
    if citizens.is_citizen(row.address):
        return "already a citizen"
    if citizens.credential_used(bytes.fromhex(row.credential_hash[2:])):
        return "credential hash already used"
    return None


@click.command("revoke")
@write_command
@click.argument("address")
@click.option(
    "--reason",
    required=True,
    type=click.Choice([r.name.lower() for r in RevocationReason]),
    help="Why the membership ends.",
)
def revoke(opened: Opened, *, as_json: bool, address: str, reason: str) -> None:
    """End ADDRESS's membership (the signer must be a registrar); its credential hash stays used."""
    done = Citizens.from_suite(opened.suite).revoke(opened.signer, address, reason)
    print_result(
        as_json,
        {
            "citizen": done.citizen,
            "membershipId": str(done.membership_id),
            "reason": done.reason.name.lower(),
            **tx_json(done.tx),
        },
        f"membership #{done.membership_id} of {done.citizen} revoked ({reason}) (tx {done.tx.tx_hash})",
    )


@click.command("rotate")
@write_command
@click.argument("old_address")
@click.argument("new_address")
def rotate(opened: Opened, *, as_json: bool, old_address: str, new_address: str) -> None:
    """Move OLD_ADDRESS's membership to NEW_ADDRESS (a lost key): signed and sent by a registrar."""
    citizens = Citizens.from_suite(opened.suite)
    attestation = citizens.attest_rotation(opened.signer, old_address, new_address)
    done = citizens.rotate_with_attestation(opened.signer, attestation)
    print_result(
        as_json,
        {
            "from": done.from_address,
            "to": done.to_address,
            "membershipId": str(done.membership_id),
            **tx_json(done.tx),
        },
        f"membership #{done.membership_id} moved from {done.from_address} to {done.to_address} "
        f"(tx {done.tx.tx_hash})",
    )


@click.command("delegate")
@write_command
@click.argument("to")
def delegate(opened: Opened, *, as_json: bool, to: str) -> None:
    """Let TO cast the signer's vote (delegate to yourself to take it back)."""
    done = Citizens.from_suite(opened.suite).delegate(opened.signer, to)
    print_result(
        as_json,
        {
            "delegator": done.delegator,
            "delegate": done.delegatee,
            "previous": done.previous,
            **tx_json(done.tx),
        },
        f"{done.delegator} now votes through {done.delegatee} (tx {done.tx.tx_hash})",
    )


def _hash(text: str) -> bytes:
    if not _HASH.match(text.strip()):
        raise ConfigError(f"--credential-hash must be 0x + 64 hex digits, got {text[:70]!r}")
    return bytes.fromhex(text.strip()[2:])


COMMANDS: tuple[click.Command, ...] = (register, import_, revoke, rotate, delegate)
