// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {ICivicGovernor} from "../../../contracts/interfaces/ICivicGovernor.sol";
import {ICommonsExchange} from "../../../contracts/interfaces/ICommonsExchange.sol";
import {ExchangeLens} from "../../../contracts/ExchangeLens.sol";
import {IPublicTreasury} from "../../../contracts/interfaces/IPublicTreasury.sol";
import {ICommonsExchangeErrors} from "../../../contracts/interfaces/errors/ICommonsExchangeErrors.sol";
import {BookingStatus} from "../../../contracts/interfaces/types/ExchangeTypes.sol";
import {CreditLedger, HandlerBase, Suite} from "./HandlerBase.sol";

/// @notice Residents and their votes: register, rotate a lost key, revoke, delegate, propose, vote, queue and
/// execute. Holds REGISTRAR_ROLE itself; DAO-only steps (rotation) are pranked as the timelock. A rotation must
/// move everything the membership holds to the new key (exchange credits and listings, grants, QF payouts and
/// the vote on open proposals) and leave the old key nothing: each breach is counted in `rotationBreaches`.
contract CitizensHandler is HandlerBase {
    uint256 private _credentials;
    uint256[] private _proposals;
    mapping(uint256 proposalId => bytes32) private _descriptionHash;

    /// @notice Memberships ever minted (ids 1..memberships; the registry numbers them from 1).
    uint256 public memberships;
    /// @notice Rotations after which the old key still reached something of the membership, or the new key
    /// did not get it; ballots of a key rotated away after the snapshot that were counted (must stay 0).
    uint256 public rotationBreaches;

    /// @dev Timepoints at which registry state changed, and what the registry reported at the end of each: per
    /// actor votes (bits 0-47), balance (48-95) and delegate (96-255); the live memberships. The invariant reads
    /// them back through the registry's past lookups (its histories are its own code, not OpenZeppelin's).
    uint48[] private _seenAt;
    mapping(uint256 index => mapping(address account => uint256 packed)) private _seen;
    mapping(uint256 index => uint256 supply) private _seenSupply;

    constructor(Suite memory suite, address[] memory actors_, address resolver) HandlerBase(suite, actors_, resolver) {}

    /// @notice How many past lookups (getPastVotes, getPastBalanceOf, getPastDelegate, getPastTotalSupply) of the
    /// last 8 recorded timepoints disagree with what the registry reported then (must be 0).
    function pastLookupMismatches() external view returns (uint256 mismatches) {
        uint256 n = _seenAt.length;
        for (uint256 i = n > 8 ? n - 8 : 0; i < n; ++i) {
            uint48 t = _seenAt[i];
            if (t >= block.timestamp) continue;
            if (s.registry.getPastTotalSupply(t) != _seenSupply[i]) ++mismatches;
            for (uint256 k; k < _actors.length; ++k) {
                address a = _actors[k];
                uint256 seen = _seen[i][a];
                if (s.registry.getPastVotes(a, t) != uint48(seen)) ++mismatches;
                if (s.registry.getPastBalanceOf(a, t) != uint48(seen >> 48)) ++mismatches;
                if (s.registry.getPastDelegate(a, t) != address(uint160(seen >> 96))) ++mismatches;
            }
        }
    }

    /// @dev Records the registry's current view (called after every action that changes registry state).
    function _recordRegistry() private {
        uint48 now_ = uint48(block.timestamp);
        uint256 n = _seenAt.length;
        if (n == 0 || _seenAt[n - 1] != now_) {
            _seenAt.push(now_);
            ++n;
        }
        _seenSupply[n - 1] = s.registry.citizenCount();
        for (uint256 k; k < _actors.length; ++k) {
            address a = _actors[k];
            _seen[n - 1][a] = s.registry.getVotes(a) | (s.registry.balanceOf(a) << 48)
                | (uint256(uint160(s.registry.delegates(a))) << 96);
        }
    }

    function proposals() external view returns (uint256[] memory) {
        return _proposals;
    }

    /// @dev Also tries keys that already hold a membership (the registry must refuse them).
    function register(uint256 actorSeed) external {
        try s.registry.register(_actor(actorSeed), keccak256(abi.encode("credential", ++_credentials))) {
            ++memberships;
            _did("register");
        } catch {}
        _recordRegistry();
    }

    function rotate(uint256 fromSeed, uint256 toSeed) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        uint256 membership = s.registry.membershipOf(from);
        uint256[4] memory held = _creditsOf(from, to);
        _asDao();
        try s.registry.rotate(from, to) {
            _did("rotate");
        } catch {
            return; // also onto a member, or from a non-member: refused
        }
        _recordRegistry();
        _checkRotation(from, to, membership, held);
    }

    /// @dev The exchange credits of `from` and `to`, in ETH then in the token: [from, to, from, to].
    function _creditsOf(address from, address to) private view returns (uint256[4] memory held) {
        for (uint256 t; t < 2; ++t) {
            held[2 * t] = s.exchange.credits(from, _tokenOf(t));
            held[2 * t + 1] = s.exchange.credits(to, _tokenOf(t));
        }
    }

    /// @dev After `membership` moved from `from` to `to`: the exchange credits of the old key moved to the new key
    /// in the same transaction (the registry's hook), so the old key has nothing to withdraw; its grants and QF
    /// payouts are claimable by the new key only. `held`: the credits of from and to before, per token.
    function _checkRotation(address from, address to, uint256 membership, uint256[4] memory held) private {
        if (s.registry.membershipOf(from) != 0 || s.registry.membershipOf(to) != membership) ++rotationBreaches;
        for (uint256 t; t < 2; ++t) {
            address token = _tokenOf(t);
            if (s.exchange.credits(from, token) != 0) ++rotationBreaches; // the old key kept a credit
            if (s.exchange.credits(to, token) != held[2 * t] + held[2 * t + 1]) ++rotationBreaches;
            if (held[2 * t] == 0) continue;
            _did("credit follows rotation");
            vm.prank(from);
            try s.exchange.withdraw(token) {
                ++rotationBreaches; // the old key withdrew what the membership is owed
            } catch {
                _did("old key refused: withdraw");
            }
        }
        _checkExchangeRights(from, membership);
        uint256 grants = s.treasury.grantCount();
        for (uint256 id; id < grants; ++id) {
            IPublicTreasury.Grant memory g = s.treasury.getGrant(id);
            if (g.membership != membership || g.registry != address(s.registry)) continue;
            if (s.treasury.grantClaimant(id) != to) ++rotationBreaches;
            else _did("grant follows rotation");
            if (s.treasury.claimableAmount(id) == 0) continue;
            vm.prank(from);
            try s.treasury.claim(id) {
                ++rotationBreaches; // the old key claimed the membership's grant
            } catch {
                _did("old key refused: grant claim");
            }
        }
        uint256 rounds = s.treasury.roundCount();
        for (uint256 id; id < rounds; ++id) {
            IPublicTreasury.Round memory r = s.treasury.getRound(id);
            if (r.registry != address(s.registry)) continue;
            for (uint256 k; k < r.projectCount; ++k) {
                IPublicTreasury.Project memory p = s.treasury.getProject(id, k);
                if (p.membership != membership) continue;
                if (s.treasury.projectClaimant(id, k) != to) ++rotationBreaches;
                else _did("QF payout follows rotation");
                if (!r.finalized || p.claimed) continue;
                vm.prank(from);
                try s.treasury.claimRound(id, k) {
                    ++rotationBreaches; // the old key claimed the membership's payout
                } catch {
                    _did("old key refused: QF claim");
                }
            }
        }
    }

    /// @dev The old key no longer manages the membership's listings nor answers as the renter of its bookings.
    function _checkExchangeRights(address from, uint256 membership) private {
        uint256 listings = s.exchange.listingCount();
        for (uint256 id = 1; id <= listings; ++id) {
            ICommonsExchange.Listing memory lst = ExchangeLens(s.exchange.lens()).getListing(id);
            if (lst.membership != membership || lst.closed) continue;
            vm.prank(from);
            try s.exchange.setListingPaused(id, !lst.paused) {
                ++rotationBreaches; // the old key still manages the listing
            } catch (bytes memory reason) {
                if (bytes4(reason) != ICommonsExchangeErrors.ExchangeNotLister.selector) ++rotationBreaches;
                else _did("old key refused: manage listing");
            }
        }
        uint256 bookings = s.exchange.bookingCount();
        for (uint256 id = 1; id <= bookings; ++id) {
            ICommonsExchange.Booking memory b = s.exchange.getBooking(id);
            if (b.renterMembership != membership || b.status != BookingStatus.ACTIVE) continue;
            vm.prank(from);
            try s.exchange.cancelByRenter(id) {
                ++rotationBreaches; // the old key still acts as the renter
            } catch (bytes memory reason) {
                if (bytes4(reason) != ICommonsExchangeErrors.ExchangeNotRenter.selector) ++rotationBreaches;
                else _did("old key refused: cancel booking");
            }
        }
    }

    function revoke(uint256 actorSeed) external {
        address who = _actor(actorSeed);
        if (!s.registry.isCitizen(who)) return;
        uint256 membership = s.registry.membershipOf(who);
        uint256[2] memory held;
        for (uint256 t; t < 2; ++t) {
            held[t] = CreditLedger.ofMembership(address(s.exchange), membership, _tokenOf(t));
            held[t] += s.exchange.credits(who, _tokenOf(t));
        }
        s.registry.revoke(who, 1);
        _did("revoke");
        _recordRegistry();
        // what the key was owed now belongs to the revoked membership, which only the DAO pays out
        for (uint256 t; t < 2; ++t) {
            if (s.exchange.credits(who, _tokenOf(t)) != 0) ++rotationBreaches;
            if (CreditLedger.ofMembership(address(s.exchange), membership, _tokenOf(t)) != held[t]) ++rotationBreaches;
        }
    }

    function delegate(uint256 fromSeed, uint256 toSeed) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        vm.prank(from);
        s.registry.delegate(to);
        _did("delegate");
        _recordRegistry();
    }

    function propose(uint256 actorSeed) external {
        address proposer = _actor(actorSeed);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _action();
        string memory description = string(abi.encodePacked("invariant proposal #", _u(_proposals.length)));
        vm.prank(proposer);
        try s.governor.propose(targets, values, calldatas, description) returns (uint256 id) {
            _proposals.push(id);
            _descriptionHash[id] = keccak256(bytes(description));
            _did("propose");
        } catch {}
    }

    /// @dev A key that rotated its membership away after the snapshot must be refused
    /// (CivicGovernorVoterRotatedAway): the new key carries that membership's vote.
    function castVote(uint256 actorSeed, uint256 proposalSeed, uint8 support) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        _reach(s.governor.proposalSnapshot(id) + 1);
        if (s.governor.state(id) != IGovernor.ProposalState.Active) return;
        address voter = _actor(actorSeed);
        address ballotKey = s.registry.snapshotVoter(voter, s.governor.proposalSnapshot(id));
        if (ballotKey != address(0) && s.governor.hasVoted(id, ballotKey)) return;
        vm.prank(voter);
        try s.governor.castVote(id, _support(support)) {
            if (ballotKey == address(0)) ++rotationBreaches;
            _did(ballotKey == voter ? "vote" : "vote with the snapshot key's membership after rotation");
        } catch {
            if (ballotKey == address(0)) _did("old key refused: vote");
        }
    }

    /// @dev A relayer casts up to three actors' signed BatchBallots in one castVotesBySig (actors whose snapshot key
    /// voted already or who rotated away are left out, as a relayer's simulation would). Every batch of fresh
    /// ballots must go through; the invariants then check that no membership was counted twice.
    function castVotesBySig(uint256 proposalSeed, uint256 actorSeed, uint8 count, uint8 support) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        uint256 snapshot = s.governor.proposalSnapshot(id);
        _reach(snapshot + 1);
        if (s.governor.state(id) != IGovernor.ProposalState.Active) return;
        uint256 n = 1 + (count % 3);
        ICivicGovernor.SignedBallot[] memory all = new ICivicGovernor.SignedBallot[](n);
        uint256 k;
        for (uint256 j; j < n; ++j) {
            uint256 index = (actorSeed % _actors.length + j) % _actors.length;
            address ballotKey = s.registry.snapshotVoter(_actors[index], snapshot);
            if (ballotKey == address(0) || s.governor.hasVoted(id, ballotKey)) continue;
            all[k++] = _signedBallot(id, index, _support(support));
        }
        if (k == 0) return;
        ICivicGovernor.SignedBallot[] memory ballots = new ICivicGovernor.SignedBallot[](k);
        for (uint256 j; j < k; ++j) {
            ballots[j] = all[j];
        }
        try s.governor.castVotesBySig(id, ballots) {
            _did("batched ballots");
        } catch {
            ++rotationBreaches; // fresh, well-signed ballots of current keys must be counted
        }
    }

    /// @dev Actor `index`'s BatchBallot, signed with the key the invariant test derived its address from.
    function _signedBallot(
        uint256 id,
        uint256 index,
        uint8 choice
    ) private view returns (ICivicGovernor.SignedBallot memory) {
        address voter = _actors[index];
        uint256 key = uint256(keccak256(abi.encode("resident", index)));
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(key, _batchBallotDigest(id, choice, voter));
        return ICivicGovernor.SignedBallot(voter, choice, v, r, sig);
    }

    /// @dev The EIP-712 digest of a BatchBallot in the governor's domain.
    function _batchBallotDigest(uint256 id, uint8 choice, address voter) private view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(s.governor.name())),
                keccak256("1"),
                block.chainid,
                address(s.governor)
            )
        );
        bytes32 ballot = keccak256(
            abi.encode(keccak256("BatchBallot(uint256 proposalId,uint8 support,address voter)"), id, choice, voter)
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, ballot));
    }

    /// @dev A resident loses their key while a proposal is open: the DAO rotates the membership to a fresh key.
    /// The old key's ballot must be refused with CivicGovernorVoterRotatedAway; the new key casts the membership's
    /// snapshot ballot (once: the vote count is bounded by the snapshot supply in the invariant).
    function rotateMidVote(uint256 proposalSeed, uint256 fromSeed, uint256 toSeed, uint8 support) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        _reach(s.governor.proposalSnapshot(id) + 1);
        if (s.governor.state(id) != IGovernor.ProposalState.Active) return;
        (address from, address to) = _rotationPair(fromSeed, toSeed);
        if (from == address(0)) return;
        uint256 membership = s.registry.membershipOf(from);
        uint256[4] memory held = _creditsOf(from, to);
        _asDao();
        s.registry.rotate(from, to);
        _did("rotate mid-vote");
        _recordRegistry();
        _checkRotation(from, to, membership, held);
        vm.prank(from);
        try s.governor.castVote(id, _support(support)) {
            ++rotationBreaches; // the old key voted after its membership moved on
        } catch (bytes memory reason) {
            if (bytes4(reason) != ICivicGovernor.CivicGovernorVoterRotatedAway.selector) ++rotationBreaches;
            else _did("old key refused: vote");
        }
        address ballotKey = s.registry.snapshotVoter(to, s.governor.proposalSnapshot(id));
        if (ballotKey == address(0) || s.governor.hasVoted(id, ballotKey)) return;
        vm.prank(to);
        try s.governor.castVote(id, _support(support)) {
            _did("new key casts the membership's vote");
        } catch {}
    }

    /// @dev A member and a key holding no membership, from seeded positions (address(0)s when there is none).
    function _rotationPair(uint256 fromSeed, uint256 toSeed) private view returns (address from, address to) {
        for (uint256 k; k < _actors.length && from == address(0); ++k) {
            address a = _actor(fromSeed % _actors.length + k);
            if (s.registry.membershipOf(a) != 0) from = a;
        }
        for (uint256 k; k < _actors.length && to == address(0); ++k) {
            address a = _actor(toSeed % _actors.length + k);
            if (s.registry.membershipOf(a) == 0) to = a;
        }
        if (to == address(0)) from = address(0);
    }

    /// @dev A delegator votes itself instead of through its delegate (GovernorCountingOverridable).
    function castOverrideVote(uint256 actorSeed, uint256 proposalSeed, uint8 support) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        _reach(s.governor.proposalSnapshot(id) + 1);
        if (s.governor.state(id) != IGovernor.ProposalState.Active) return;
        vm.prank(_actor(actorSeed));
        try s.governor.castOverrideVote(id, _support(support), "") {
            _did("override vote");
        } catch {}
    }

    function queueOrExecute(uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        IGovernor.ProposalState state = s.governor.state(id);
        if (state == IGovernor.ProposalState.Active) {
            _reach(s.governor.proposalDeadline(id) + 1);
            state = s.governor.state(id);
        }
        if (state == IGovernor.ProposalState.Succeeded) {
            (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _action();
            s.governor.queue(targets, values, calldatas, _descriptionHash[id]);
            _did("queue");
        } else if (state == IGovernor.ProposalState.Queued) {
            _reach(s.governor.proposalEta(id));
            if (block.timestamp < s.governor.proposalEta(id)) return;
            (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _action();
            s.governor.execute(targets, values, calldatas, _descriptionHash[id]);
            _did("execute");
        }
    }

    /// @dev A harmless action every proposal carries (reads the citizen count through the timelock).
    /// @dev The first proposal from a seeded position on that is still moving (pending, active, succeeded or
    /// queued), or the seeded one when none is.
    function _proposal(uint256 seed) private view returns (uint256) {
        uint256 n = _proposals.length;
        for (uint256 k; k < n; ++k) {
            uint256 id = _proposals[(seed % n + k) % n];
            IGovernor.ProposalState state = s.governor.state(id);
            if (
                state == IGovernor.ProposalState.Pending || state == IGovernor.ProposalState.Active
                    || state == IGovernor.ProposalState.Succeeded || state == IGovernor.ProposalState.Queued
            ) return id;
        }
        return _proposals[seed % n];
    }

    /// @dev Against, abstain or (half the time) for, so that some proposals pass and go on to the timelock.
    function _support(uint8 seed) private pure returns (uint8) {
        return seed % 4 == 0 ? 0 : (seed % 4 == 1 ? 2 : 1);
    }

    function _action() private view returns (address[] memory targets, uint256[] memory values, bytes[] memory data) {
        targets = new address[](1);
        values = new uint256[](1);
        data = new bytes[](1);
        targets[0] = address(s.registry);
        data[0] = abi.encodeCall(s.registry.citizenCount, ());
    }

    function _u(uint256 v) private pure returns (bytes memory out) {
        if (v == 0) return "0";
        while (v != 0) {
            out = abi.encodePacked(bytes1(uint8(48 + (v % 10))), out);
            v /= 10;
        }
    }
}
