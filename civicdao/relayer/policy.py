"""The relayer's policy: may this signer act now, by the chain's current state?

:func:`civicdao.signing.verify_message` has already checked what was signed (shape, EIP-712 domain,
signature). Here the chain is asked what the contracts will ask when the message lands, so that the relayer
refuses, before it queues anything or pays any gas, what would revert: a voter who is not a citizen at the
proposal snapshot (or whose key was rotated away), who already voted, or whose vote was delegated away; a
proposal that is unknown or not open; a stale or skipped nonce; an expired signature; an attestation not
signed by a registrar, or for a resident who is already a citizen. Each refusal is the named
:class:`~civicdao.errors.RefusedError` or :class:`~civicdao.errors.SigningError` subclass that the
contract's own revert also derives from (``GovernorAlreadyCastVote`` is an ``AlreadyVotedError``).

The ``verify_*`` functions return the records of :mod:`civicdao.signing` (:class:`~civicdao.signing.Ballot`,
…), which know the contract call that carries them on-chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from civicdao import errors
from civicdao.signing import BALLOT_KINDS, Attestation, Ballot, Delegation, Rotation, verify_message
from civicdao.tx import call

__all__ = [
    "active_proposal",
    "check_expiry",
    "check_member",
    "check_new_citizen",
    "check_nonce",
    "check_registrar",
    "verify_attestation",
    "verify_ballot",
    "verify_delegation",
    "verify_rotation",
]

#: Governor proposal states (OpenZeppelin IGovernor.ProposalState) by number.
_STATE_NAMES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")


# -- the messages ---------------------------------------------------------------------------------------


def verify_ballot(
    governor: Contract,
    registry: Contract,
    typed_data: Mapping[str, Any],
    signature: str | bytes,
    *,
    expected_nonce: int | None = None,
) -> Ballot:
    """Check a signed ballot against the chain and return it.

    A ``BatchBallot`` (for ``castVotesBySig``) carries no nonce: it is checked like a plain ``Ballot``
    (domain, signed by its voter, proposal Active, the snapshot key has votes and has not voted).
    ``expected_nonce`` is the nonce the ballot must carry (default: the governor's ``nonces(voter)``; a
    relayer holding earlier ballots of the same voter passes that plus their number).

    Raises:
        MalformedMessageError, InvalidSignatureError, WrongChainError, WrongContractError,
        DomainMismatchError, UnknownProposalError, ProposalNotActiveError, StaleNonceError,
        NonceMismatchError, NotCitizenError, NoVotingPowerError, AlreadyVotedError.
    """
    signed = verify_message(governor, typed_data, signature, kinds=BALLOT_KINDS, signed_by="voter")
    message, voter = signed.message, signed.signer
    proposal_id = message["proposalId"]
    snapshot, deadline = active_proposal(governor, proposal_id)
    if signed.primary_type != "BatchBallot":
        check_nonce(voter, message["nonce"], int(call(governor.functions.nonces(voter))), expected_nonce)
    if signed.primary_type == "OverrideBallot":
        _check_override(governor, registry, proposal_id, voter, snapshot)
    else:
        _check_voter(governor, registry, proposal_id, voter, snapshot)
    return Ballot(
        kind=signed.primary_type,  # type: ignore[arg-type]
        proposal_id=proposal_id,
        support=message["support"],
        voter=voter,
        nonce=message.get("nonce"),
        reason=message.get("reason", ""),
        params=message.get("params", b""),
        signature=signed.signature,
        digest=signed.digest,
        snapshot=snapshot,
        deadline=deadline,
    )


def verify_delegation(
    registry: Contract,
    typed_data: Mapping[str, Any],
    signature: str | bytes,
    *,
    expected_nonce: int | None = None,
) -> Delegation:
    """Check a signed delegation against the chain and return it (the delegator is recovered).

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError (WrongChainError,
        WrongContractError), SignatureExpiredError, StaleNonceError, NonceMismatchError, NotCitizenError.
    """
    signed = verify_message(registry, typed_data, signature, kinds=("Delegation",))
    message, delegator = signed.message, signed.signer
    check_expiry(registry.w3, message["expiry"])
    check_nonce(delegator, message["nonce"], int(call(registry.functions.nonces(delegator))), expected_nonce)
    if not call(registry.functions.isCitizen(delegator)):
        raise errors.NotCitizenError(
            f"the delegation is signed by {delegator}, who is not a citizen (or the message was altered)"
        )
    return Delegation(
        delegator=delegator,
        delegatee=message["delegatee"],
        nonce=message["nonce"],
        expiry=message["expiry"],
        signature=signed.signature,
        digest=signed.digest,
    )


def verify_attestation(
    registry: Contract, typed_data: Mapping[str, Any], signature: str | bytes
) -> Attestation:
    """Check a registrar's signed attestation against the chain and return it.

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError, SignatureExpiredError,
        NotRegistrarError, AlreadyCitizenError, CredentialUsedError.
    """
    signed = verify_message(registry, typed_data, signature, kinds=("Attestation",))
    message = signed.message
    check_expiry(registry.w3, message["expiry"])
    check_registrar(registry, signed.signer)
    check_new_citizen(registry, message["citizen"], credential=message["credentialHash"])
    return Attestation(
        registrar=signed.signer,
        citizen=message["citizen"],
        credential_hash=message["credentialHash"],
        expiry=message["expiry"],
        signature=signed.signature,
        domain=signed.domain,
    )


def verify_rotation(registry: Contract, typed_data: Mapping[str, Any], signature: str | bytes) -> Rotation:
    """Check a registrar's signed rotation against the chain and return it.

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError, SignatureExpiredError,
        NotRegistrarError, StaleNonceError, NonceMismatchError, NotCitizenError, AlreadyCitizenError.
    """
    signed = verify_message(registry, typed_data, signature, kinds=("Rotation",))
    message = signed.message
    check_expiry(registry.w3, message["expiry"])
    check_registrar(registry, signed.signer)
    source, target = message["from"], message["to"]
    current = int(call(registry.functions.rotationNonces(source)))
    check_nonce(source, message["nonce"], current, None, what="rotation nonce")
    if not call(registry.functions.isCitizen(source)):
        raise errors.NotCitizenError(f"{source} is not a citizen: there is no membership to rotate")
    check_new_citizen(registry, target)
    return Rotation(
        registrar=signed.signer,
        from_address=source,
        to_address=target,
        nonce=message["nonce"],
        expiry=message["expiry"],
        signature=signed.signature,
        domain=signed.domain,
    )


# -- the checks -----------------------------------------------------------------------------------------


def check_nonce(account: str, nonce: int, current: int, expected: int | None, *, what: str = "nonce") -> None:
    """``nonce`` must be ``expected`` (default: the chain's ``current``); below ``current`` it was used."""
    wanted = current if expected is None else expected
    if nonce < current:
        raise errors.StaleNonceError(account, wanted, nonce, what)
    if nonce != wanted:
        raise errors.NonceMismatchError(account, wanted, nonce, what)


def check_expiry(w3: Web3, expiry: int) -> None:
    """Refuse a signature whose ``expiry`` the chain's clock has passed (as the contracts do)."""
    now = int(w3.eth.get_block("latest")["timestamp"])
    if now > expiry:  # the contracts refuse `block.timestamp > expiry`
        raise errors.SignatureExpiredError(expiry, now)


def check_registrar(registry: Contract, signer: str) -> None:
    """``signer`` must hold the registry's REGISTRAR_ROLE."""
    role = call(registry.functions.REGISTRAR_ROLE())
    if not call(registry.functions.hasRole(role, signer)):
        raise errors.NotRegistrarError(
            f"the message is signed by {signer}, who does not hold REGISTRAR_ROLE "
            "(or the message was altered)"
        )


def check_new_citizen(registry: Contract, citizen: str, *, credential: bytes | None = None) -> None:
    """``citizen`` must not be a citizen yet, and ``credential`` (when given) neither zero nor used."""
    if credential is not None and credential == b"\x00" * 32:
        raise errors.MalformedMessageError("the credential hash must not be zero")
    if call(registry.functions.isCitizen(citizen)):
        raise errors.AlreadyCitizenError(f"{citizen} is already a citizen")
    if credential is not None and call(registry.functions.credentialUsed(credential)):
        used = f"0x{credential.hex()}"
        raise errors.CredentialUsedError(f"credential {used} was already used to register a citizen")


def check_member(registry: Contract, account: str, *, purpose: str) -> int:
    """``account``'s membership id; :class:`NotCitizenError` naming ``purpose`` when it holds none."""
    membership = int(call(registry.functions.membershipOf(account)))
    if membership == 0:
        raise errors.NotCitizenError(f"{account} holds no membership: only residents {purpose}")
    return membership


def active_proposal(governor: Contract, proposal_id: int) -> tuple[int, int]:
    """The snapshot and deadline of a proposal that is open for voting.

    Raises:
        UnknownProposalError, ProposalNotActiveError.
    """
    snapshot = int(call(governor.functions.proposalSnapshot(proposal_id)))
    if snapshot == 0:
        raise errors.UnknownProposalError(f"the governor has no proposal {proposal_id}")
    state = int(call(governor.functions.state(proposal_id)))
    if state != 1:
        raise errors.ProposalNotActiveError(
            f"proposal {proposal_id} is {_STATE_NAMES[state] if state < len(_STATE_NAMES) else state}, "
            "not Active: ballots are accepted only while voting is open"
        )
    return snapshot, int(call(governor.functions.proposalDeadline(proposal_id)))


def _check_voter(
    governor: Contract, registry: Contract, proposal_id: int, voter: ChecksumAddress, snapshot: int
) -> None:
    # after a key rotation the new key casts the old key's ballot
    voter = _ballot_key(registry, voter, snapshot)
    votes = int(call(registry.functions.getPastVotes(voter, snapshot)))
    balance = int(call(registry.functions.getPastBalanceOf(voter, snapshot)))
    if votes == 0 and balance == 0:
        raise errors.NotCitizenError(
            f"{voter} was not a citizen and held no delegated votes at the proposal snapshot ({snapshot})"
        )
    if call(governor.functions.hasVoted(proposal_id, voter)):
        raise errors.AlreadyVotedError(f"{voter} has already voted on proposal {proposal_id}")
    if votes == 0:
        delegate = call(registry.functions.getPastDelegate(voter, snapshot))
        raise errors.NoVotingPowerError(
            f"{voter} had delegated its vote to {delegate} at the proposal snapshot, so a plain ballot "
            "would count 0: sign an OverrideBallot to vote yourself"
        )


def _ballot_key(registry: Contract, voter: ChecksumAddress, snapshot: int) -> ChecksumAddress:
    """The key whose ballot ``voter`` casts (CitizenRegistry.snapshotVoter); refuses a rotated-away key."""
    from civicdao.citizens import Citizens

    key = Citizens(registry.w3, registry).snapshot_voter(voter, snapshot)
    if key is None:
        raise errors.NotCitizenError(
            f"{voter} rotated its membership to a new key after the proposal snapshot ({snapshot}): "
            "the new key casts this membership's ballot"
        )
    return key


def _check_override(
    governor: Contract, registry: Contract, proposal_id: int, voter: ChecksumAddress, snapshot: int
) -> None:
    voter = _ballot_key(registry, voter, snapshot)
    if int(call(registry.functions.getPastBalanceOf(voter, snapshot))) == 0:
        raise errors.NotCitizenError(f"{voter} was not a citizen at the proposal snapshot ({snapshot})")
    if call(governor.functions.hasVotedOverride(proposal_id, voter)):
        raise errors.AlreadyVotedError(
            f"{voter} has already overridden its delegate on proposal {proposal_id}"
        )
