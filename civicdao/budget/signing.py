"""EIP-712 approval ballots a resident signs in a wallet and a relayer submits in batches.

The message is ``ApprovalBallot(uint256 roundId,uint256 approvals,uint256 nonce)`` in the
``ParticipatoryBudget`` domain (name ``CivicDAO ParticipatoryBudget``, version ``1``). ``approvals`` is
the bitmap of approved project indexes; ``nonce`` is the membership's ballot nonce
(``ballotOf(round, membership).nextNonce``: 0 for a first ballot, then 1, 2, … for each change), so an
old signature can never be replayed over a newer ballot. :func:`ballot_typed_data` returns exactly what
``eth_signTypedData_v4`` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_keys.datatypes import PrivateKey
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from civicdao._validate import whole_number
from civicdao.accounts import Signer
from civicdao.signing import (
    EIP712_DOMAIN_TYPE,
    Domain,
    normalize_signature,
    read_domain,
    recover_signer,
    sign_typed_data,
    typed_data_digest,
)

__all__ = [
    "BALLOT_TYPE",
    "SignedBudgetBallot",
    "ballot_digest_to_sign",
    "ballot_typed_data",
    "sign_ballot",
    "sign_ballot_with_key",
]

#: The EIP-712 struct of a participatory-budgeting ballot.
BALLOT_TYPE: tuple[tuple[str, str], ...] = (
    ("roundId", "uint256"),
    ("approvals", "uint256"),
    ("nonce", "uint256"),
)


@dataclass(frozen=True)
class SignedBudgetBallot:
    """A signed ballot ready to relay: signer, approvals, nonce and the 65-byte signature."""

    round_id: int
    approvals: int
    nonce: int
    voter: ChecksumAddress
    signature: bytes

    def as_call_argument(self) -> tuple[int, int, bytes, bytes]:
        """The ``SignedBallot`` struct of ``castBallotsBySig``: approvals, nonce, compact r and vs."""
        raw = normalize_signature(self.signature)
        r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
        vs = s | ((v - 27) << 255)
        return (self.approvals, self.nonce, r, vs.to_bytes(32, "big"))


def ballot_typed_data(
    contract: Contract | Domain, *, round_id: int, approvals: int, nonce: int
) -> dict[str, Any]:
    """The ``eth_signTypedData_v4`` object of a ballot (numbers as decimal strings, as wallets accept)."""
    for value, name in ((round_id, "round_id"), (approvals, "approvals"), (nonce, "nonce")):
        whole_number(value, name)
    return {
        "types": {
            "EIP712Domain": [dict(field) for field in EIP712_DOMAIN_TYPE],
            "ApprovalBallot": [{"name": name, "type": kind} for name, kind in BALLOT_TYPE],
        },
        "primaryType": "ApprovalBallot",
        "domain": (contract if isinstance(contract, Domain) else read_domain(contract)).as_dict(),
        "message": {"roundId": str(round_id), "approvals": str(approvals), "nonce": str(nonce)},
    }


def ballot_digest_to_sign(domain: Domain, *, round_id: int, approvals: int, nonce: int) -> bytes:
    """The 32-byte EIP-712 digest of a ballot (what the contract recovers the voter from)."""
    return typed_data_digest(ballot_typed_data(domain, round_id=round_id, approvals=approvals, nonce=nonce))


def sign_ballot(
    signer: Signer,
    contract: Contract | Domain,
    *,
    round_id: int,
    approvals: int,
    nonce: int,
    w3: Web3 | None = None,
) -> SignedBudgetBallot:
    """Sign a ballot with a wallet-like signer (a local key, or the node for unlocked accounts)."""
    typed = ballot_typed_data(contract, round_id=round_id, approvals=approvals, nonce=nonce)
    signature = bytes.fromhex(sign_typed_data(signer, typed, w3=w3)[2:])
    voter = recover_signer(typed, signature)
    return SignedBudgetBallot(round_id, approvals, nonce, voter, signature)


def sign_ballot_with_key(
    key: PrivateKey, domain: Domain, *, round_id: int, approvals: int, nonce: int
) -> SignedBudgetBallot:
    """Sign a ballot with a raw key, without building the JSON (fast: replays of many synthetic voters)."""
    digest = ballot_digest_to_sign(domain, round_id=round_id, approvals=approvals, nonce=nonce)
    sig = key.sign_msg_hash(digest)
    raw = sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])
    return SignedBudgetBallot(round_id, approvals, nonce, key.public_key.to_checksum_address(), raw)
