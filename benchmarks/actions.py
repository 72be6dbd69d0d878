"""One small function per measured action (or per group of actions that share a set-up).

Each function takes a :class:`~benchmarks.world.World`, runs inside a snapshot that is reverted afterwards,
sets up what its action needs through the public library, sends the measured transaction and returns
``{row key: Gas}``. A renamed API breaks one group, not the run.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_typing import HexStr
from web3 import Web3

from benchmarks.world import DAY, GRANT, Gas, World, bulk, stream_grant_fn
from civicdao.accounts import NodeSigner, Signer
from civicdao.governance import Action, SignedBallot, VoteType
from civicdao.signing import ballot_typed_data, normalize_signature, sign_typed_data
from civicdao.tokens import ETH
from civicdao.tx import TxRecord, send_transaction, transact

Measure = Callable[[World], dict[str, Gas]]


def _tokens(world: World) -> dict[str, str]:
    return {"ETH": ETH, "ERC-20": world.token.address}


# -- citizens ---------------------------------------------------------------------------------------------


def register(world: World) -> dict[str, Gas]:
    with world.isolated():
        who = world.fresh_account().address
        record = world.citizens.register(world.deployer, who, Web3.keccak(text=world.unique("cred"))).tx
        return {"register": world.gas(record)}


def register_attestation(world: World) -> dict[str, Gas]:
    with world.isolated():
        who = world.fresh_account().address
        attestation = world.citizens.attest(world.deployer, who, Web3.keccak(text=world.unique("cred")))
        record = world.citizens.register_with_attestation(world.people["relayer"], attestation).tx
        return {"register_attestation": world.gas(record)}


def delegate(world: World) -> dict[str, Gas]:
    with world.isolated():
        record = world.citizens.delegate(world.people["donor"], world.people["proposer"].address).tx
        return {"delegate": world.gas(record)}


# -- governance -------------------------------------------------------------------------------------------


def _action(world: World) -> Action:
    return Action.call(world.suite.treasury.functions.setEpochCap(ETH, 10**24))


def _open_proposal(world: World) -> int:
    proposal_id = world.governance.propose(
        world.people["proposer"], [_action(world)], world.unique("bench")
    ).proposal_id
    world.control.increase_time(world.governance.voting_delay() + 1)
    return proposal_id


def propose_and_cancel(world: World) -> dict[str, Gas]:
    with world.isolated():
        proposer = world.people["proposer"]
        proposed = world.governance.propose(proposer, [_action(world)], world.unique("bench"))
        cancel = world.governance.cancel(proposer, proposed.proposal_id)
        return {"propose": world.gas(proposed.tx), "cancel": world.gas(cancel.tx)}


def votes(world: World) -> dict[str, Gas]:
    with world.isolated():
        lister, renter, resolver, relayer = (
            world.people[k] for k in ("lister", "renter", "resolver", "relayer")
        )
        world.citizens.delegate(resolver, relayer.address)  # before the snapshot: relayer votes for two
        proposal_id = _open_proposal(world)
        first = world.governance.vote(lister, proposal_id, VoteType.FOR)
        later = world.governance.vote(renter, proposal_id, VoteType.FOR)
        world.governance.vote(relayer, proposal_id, VoteType.FOR)
        override = world.governance.override_vote(resolver, proposal_id, VoteType.AGAINST)
        return {
            "vote_first": world.gas(first.tx),
            "vote_later": world.gas(later.tx),
            "override_vote": world.gas(override.tx),
        }


def _ballot(world: World, proposal_id: int, voter: Signer) -> SignedBallot:
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=proposal_id, support=int(VoteType.FOR), voter=voter.address, nonce=0
    )
    signature = sign_typed_data(voter, typed, w3=world.w3)
    return SignedBallot(proposal_id, VoteType.FOR, voter.address, bytes.fromhex(signature[2:]))


def relayed_votes(world: World) -> dict[str, Gas]:
    """castVoteBySig alone (a later vote), then batches of 1, 10 and 100 ballots on a fresh proposal, both as
    castVoteBySig calls in a multicall and through castVotesBySig (each batch carries the proposal's first
    vote, at every scale alike); a city of 10 has no batch of 100."""
    relayer = world.people["relayer"]
    voters: list[Signer] = [
        *world.keyed,
        *(world.people[k] for k in ("renter", "resolver", "donor", "proposer")),
    ]
    voters += [world.people["lister"], relayer]
    rows: dict[str, Gas] = {}
    with world.isolated():
        proposal_id = _open_proposal(world)
        world.governance.vote(world.people["lister"], proposal_id, VoteType.FOR)
        ballot = _ballot(world, proposal_id, voters[0])
        fn = world.suite.governor.functions.castVoteBySig(
            proposal_id, int(VoteType.FOR), ballot.voter, ballot.signature
        )
        rows["vote_by_sig"] = world.gas(transact(world.w3, relayer, fn))
    for size in (1, 10, 100):
        if size > len(voters):
            continue
        for key in ("relay", "batch"):
            with world.isolated():
                proposal_id = _open_proposal(world)
                if key == "relay":  # castVoteBySig calls in a multicall
                    batch = [_ballot(world, proposal_id, v) for v in voters[:size]]
                    record = world.governance.relay_ballots(relayer, batch)
                else:  # castVotesBySig, the batched entry point (BatchBallot signatures)
                    sign = world.governance.sign_batch_ballot
                    record = world.governance.cast_ballots(
                        relayer, [sign(v, proposal_id, VoteType.FOR) for v in voters[:size]]
                    )
                gas = world.gas(record.tx)
                rows[f"{key}_{size}"] = Gas(
                    gas.gas // size, gas.tx_hash, gas.fresh_slots, gas.changed_slots, size, gas.breakdown
                )
    return rows


def queue_execute(world: World) -> dict[str, Gas]:
    """Pass a proposal (quorum + 1 direct votes, sent in bulk), then measure queue and execute."""
    with world.isolated():
        proposal_id = _open_proposal(world)
        needed = world.governance.proposal_quorum(proposal_id)
        governor = world.suite.governor
        world.control._rpc("anvil_autoImpersonateAccount", [True])  # keyless citizens vote too
        with bulk(world.w3, world.control) as sender:
            for address in world.members[: needed + 1]:
                sender.send(
                    NodeSigner(Web3.to_checksum_address(address)), governor.functions.castVote(proposal_id, 1)
                )
        relayer = world.people["relayer"]
        deadline = world.governance.deadline(proposal_id)
        world.control.increase_time(max(1, deadline - world.now() + 1))
        queued = world.governance.queue(relayer, proposal_id)
        world.control.increase_time(world.governance.timelock_delay() + 1)
        executed = world.governance.execute(relayer, proposal_id)
        return {"queue": world.gas(queued.tx), "execute": world.gas(executed.tx)}


# -- exchange ---------------------------------------------------------------------------------------------


def _book(world: World, name: str, slot_offset: int = 0) -> int:
    start = world.next_slot[name] + slot_offset * DAY
    return world.exchange.book(world.people["renter"], world.listings[name], units=1, start=start).booking_id


def exchange_listing(world: World) -> dict[str, Gas]:
    from benchmarks.world import listing_spec

    rows = {}
    for name, token in _tokens(world).items():
        with world.isolated():
            rows[f"list/{name}"] = world.gas(
                world.exchange.list(world.people["lister"], listing_spec(world, token)).tx
            )
    return rows


def book_cancel(world: World) -> dict[str, Gas]:
    rows = {}
    for name in _tokens(world):
        with world.isolated():
            start = world.next_slot[name]
            made = world.exchange.book(world.people["renter"], world.listings[name], units=1, start=start)
            rows[f"book/{name}"] = world.gas(made.tx)
            rows[f"cancel_booking/{name}"] = world.gas(
                world.exchange.cancel(world.people["renter"], made.booking_id).tx
            )
    return rows


def settle_withdraw(world: World) -> dict[str, Gas]:
    rows = {}
    for name, token in _tokens(world).items():
        with world.isolated():
            first, second = _book(world, name), _book(world, name, 1)
            end = world.next_slot[name] + 2 * DAY
            world.control.increase_time(end - world.now() + world.exchange.windows().claim + 1)
            lister = world.people["lister"]
            rows[f"settle_fresh/{name}"] = world.gas(world.exchange.settle(lister, first).tx)
            rows[f"settle/{name}"] = world.gas(world.exchange.settle(lister, second).tx)
            rows[f"withdraw/{name}"] = world.gas(world.exchange.withdraw(lister, token).tx)
            renter = world.people["renter"]
            rows[f"withdraw_deposit/{name}"] = world.gas(world.exchange.withdraw_deposit(renter, second).tx)
    return rows


def rotate_with_credits(world: World) -> dict[str, Gas]:
    """Registrar-signed lost-key rotations: of a citizen owed nothing on the exchange (the hook's fixed
    cost), and of a lister owed ETH and ERC-20, whose credits the registry's hook moves to the new key in
    the same transaction (the price of a one-slot withdrawal)."""
    rows = {}
    with world.isolated():
        plain = world.people["proposer"].address
        rotation = world.citizens.attest_rotation(world.deployer, plain, world.fresh_account().address)
        rows["rotate"] = world.gas(
            world.citizens.rotate_with_attestation(world.people["relayer"], rotation).tx
        )
    with world.isolated():
        bookings = {name: _book(world, name) for name in _tokens(world)}
        end = max(world.next_slot.values()) + 2 * DAY
        world.control.increase_time(end - world.now() + world.exchange.windows().claim + 1)
        lister = world.people["lister"]
        for booking_id in bookings.values():
            world.exchange.settle(lister, booking_id)
        rotation = world.citizens.attest_rotation(
            world.deployer, lister.address, world.fresh_account().address
        )
        record = world.citizens.rotate_with_attestation(world.people["relayer"], rotation).tx
        rows["rotate_with_credits"] = world.gas(record)
    return rows


def claim_resolve(world: World) -> dict[str, Gas]:
    rows = {}
    for name in _tokens(world):
        with world.isolated():
            booking = _book(world, name)
            end = world.next_slot[name] + DAY
            world.control.increase_time(end - world.now() + 1)
            lister, renter, resolver = (world.people[k] for k in ("lister", "renter", "resolver"))
            claim = world.exchange.claim_damage(lister, booking, 10**14, evidence_uri="ipfs://bench-evidence")
            world.exchange.dispute_claim(renter, booking)
            resolved = world.exchange.resolve(resolver, booking, 5 * 10**13)
            rows[f"claim_damage/{name}"] = world.gas(claim.tx)
            rows[f"resolve/{name}"] = world.gas(resolved.tx)
    return rows


# -- treasury ---------------------------------------------------------------------------------------------


def donate(world: World) -> dict[str, Gas]:
    rows = {}
    for name, token in _tokens(world).items():
        with world.isolated():
            record = world.treasury.donate(world.people["proposer"], 10**15, token=token, note="bench").tx
            rows[f"donate/{name}"] = world.gas(record)
    return rows


def grants(world: World) -> dict[str, Gas]:
    rows = {}
    recipient = world.people["renter"]
    for name, token in _tokens(world).items():
        with world.isolated():
            created = world.as_timelock(stream_grant_fn(world, token, recipient.address))
            grant_id = int(created.event("StreamGrantCreated")["grantId"])
            world.control.increase_time(DAY)
            first = world.treasury.claim_grant(recipient, grant_id)
            world.control.increase_time(DAY)
            later = world.treasury.claim_grant(recipient, grant_id)
            rows[f"grant_create/{name}"] = world.gas(created)
            rows[f"claim_first/{name}"] = world.gas(first.tx)
            rows[f"claim/{name}"] = world.gas(later.tx)
    return rows


def qf_contribute(world: World) -> dict[str, Gas]:
    rows = {}
    for name, token in _tokens(world).items():
        with world.isolated():
            projects = [world.people["lister"].address, world.people["resolver"].address]
            now = world.now()
            opened = world.as_timelock(
                world.suite.treasury.functions.openRound(token, 10**18, projects, now, now + 10 * DAY)
            )
            round_id = int(opened.event("RoundOpened")["roundId"])
            world.treasury.contribute(world.people["donor"], round_id, 0, 10**15)  # not the project's first
            record = world.treasury.contribute(world.people["proposer"], round_id, 0, 10**15).tx
            rows[f"qf_contribute/{name}"] = world.gas(record)
    return rows


# -- anchors ----------------------------------------------------------------------------------------------


def stock_governor(world: World) -> dict[str, Gas]:
    assert world.stock_governor is not None and world.stock_token is not None
    gov, w3 = world.stock_governor, world.w3
    holders = world.stock_holders
    with world.isolated():
        action = _action(world)
        proposer = world.people["proposer"]
        propose = gov.functions.propose([action.target], [0], [action.calldata], world.unique("stock"))
        proposal_id = propose.call({"from": proposer.address})
        proposed = transact(w3, proposer, propose)
        world.control.increase_time(2)  # past the 1 s voting delay (timestamp clock)
        first = transact(w3, holders[0], gov.functions.castVote(proposal_id, 1))
        later = transact(w3, holders[1], gov.functions.castVote(proposal_id, 1))
        voter = world.keyed[0]  # a holder too: the holders are the citizens
        # OpenZeppelin's Ballot in the stock governor's own EIP-712 domain (read from its eip712Domain())
        typed = ballot_typed_data(gov, proposal_id=proposal_id, support=1, voter=voter.address, nonce=0)
        signature = normalize_signature(sign_typed_data(voter, typed))
        by_sig = transact(
            w3, world.people["relayer"], gov.functions.castVoteBySig(proposal_id, 1, voter.address, signature)
        )
        delegated = transact(w3, holders[4], world.stock_token.functions.delegate(holders[3].address))
        return {
            "stock:propose": world.gas(proposed),
            "stock:vote_first": world.gas(first),
            "stock:vote_later": world.gas(later),
            "stock:vote_by_sig": world.gas(by_sig),
            "stock:delegate": world.gas(delegated),
        }


def sablier(world: World) -> dict[str, Gas]:
    assert world.sablier is not None
    lockup, w3 = world.sablier, world.w3
    recipient = world.people["renter"]
    with world.isolated():
        params = (world.deployer.address, recipient.address, GRANT, world.token.address, True, True, "linear")
        fn = lockup.functions.createWithDurationsLL(params, (0, 0), 1, (0, 100 * DAY))
        stream_id = fn.call({"from": world.deployer.address})
        created = transact(w3, world.deployer, fn)
        world.control.increase_time(DAY)
        first = transact(w3, recipient, lockup.functions.withdrawMax(stream_id, recipient.address))
        world.control.increase_time(DAY)
        later = transact(w3, recipient, lockup.functions.withdrawMax(stream_id, recipient.address))
        return {
            "sablier:create": world.gas(created),
            "sablier:withdraw_first": world.gas(first),
            "sablier:withdraw": world.gas(later),
        }


def _inner_call_gas(world: World, record: TxRecord) -> int:
    """What a transaction's call costs when a contract makes it: receipt gas minus the 21,000 base and the
    calldata's intrinsic gas, plus the 2,600 of a cold account access (a transaction's ``to`` is warm from the
    start under EIP-2929; a contract reaching the token pays for it)."""
    data = bytes(world.w3.eth.get_transaction(HexStr(record.tx_hash))["input"])
    calldata = sum(16 if byte else 4 for byte in data)
    return record.gas_used - 21_000 - calldata + 2_600


def token_transfers(world: World) -> dict[str, Gas]:
    """The bench token's own ``transferFrom`` and ``transfer`` as a contract makes them, with balances and
    allowance already non-zero (as in the measured actions): what an ERC-20 row may add to its ETH target."""
    token, w3 = world.token, world.w3
    renter, lister, spender = world.people["renter"], world.people["lister"], world.people["relayer"]
    with world.isolated():
        transact(w3, renter, token.functions.approve(spender.address, 2**255))
        pulled = transact(
            w3, spender, token.functions.transferFrom(renter.address, world.exchange.address, 10**15)
        )
        sent = transact(w3, lister, token.functions.transfer(renter.address, 10**15))
        return {
            "token:transfer_from": Gas(_inner_call_gas(world, pulled), pulled.tx_hash),
            "token:transfer": Gas(_inner_call_gas(world, sent), sent.tx_hash),
        }


#: Every group, in report order.
GROUPS: dict[str, Measure] = {
    "register": register,
    "register_attestation": register_attestation,
    "delegate": delegate,
    "propose_and_cancel": propose_and_cancel,
    "votes": votes,
    "relayed_votes": relayed_votes,
    "queue_execute": queue_execute,
    "exchange_listing": exchange_listing,
    "book_cancel": book_cancel,
    "settle_withdraw": settle_withdraw,
    "rotate_with_credits": rotate_with_credits,
    "claim_resolve": claim_resolve,
    "donate": donate,
    "grants": grants,
    "qf_contribute": qf_contribute,
    "stock_governor": stock_governor,
    "sablier": sablier,
    "token_transfers": token_transfers,
}

__all__ = ["GROUPS", "Measure", "send_transaction"]
