// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IParticipatoryBudget} from "../../../contracts/interfaces/IParticipatoryBudget.sol";
import {BudgetRoundStatus} from "../../../contracts/interfaces/types/BudgetTypes.sol";
import {HandlerBase, Suite} from "./HandlerBase.sol";

/// @notice Participatory budgeting as the DAO and residents run it: the DAO (pranked as the timelock) transfers a
/// budget from the treasury to the budget contract and opens a round in the same step, as the DAO's proposal does;
/// residents submit projects and cast approval ballots (by whatever key holds their membership now); anyone posts
/// an outcome that fits the budget and finalizes after the challenge window; winners claim (at once or streamed);
/// the DAO may cancel an unfinished round. A claim of a positive amount must pay exactly that amount.
contract BudgetHandler is HandlerBase {
    uint256 public constant MAX_ROUNDS = 6;
    bytes32 private constant RULE = keccak256("equalshares/add1");

    /// @notice Claims of a positive claimable payout that failed or paid another amount (must stay 0).
    uint256 public unclaimable;
    /// @notice Budget transfers that took the treasury's epoch spending past the cap in force (must stay 0).
    uint256 public capViolations;
    /// @notice Distinct memberships whose ballot went through, per round (the ballot count must equal it).
    mapping(uint256 roundId => uint256) public voters;
    mapping(uint256 roundId => mapping(uint256 membership => bool)) private _voted;

    constructor(Suite memory suite, address[] memory actors_, address resolver) HandlerBase(suite, actors_, resolver) {}

    /// @dev The DAO funds a round from the treasury (charged against the epoch cap) and opens it.
    function openRound(uint256 tokenSeed, uint256 amount, uint256 shape) external {
        if (s.budget.roundCount() >= MAX_ROUNDS) return;
        address token = _tokenOf(tokenSeed);
        amount = _bound(amount, 1e15, 1e18);
        if (!_fundFromTreasury(token, amount)) return; // over the cap or the free balance: the proposal fails
        uint64 payout = shape % 2 == 0 ? 0 : 5 days;
        uint16 maxApprovals = uint16(_bound(shape >> 8, 1, 4));
        _asDao();
        s.budget.openRound(token, amount, 10 days, 10 days, 2 days, payout, 1, maxApprovals);
        _did(payout == 0 ? "budget: open round (paid at once)" : "budget: open round (streamed)");
    }

    /// @dev The DAO's transfer of a round's budget from the treasury; checks it kept within the epoch cap.
    function _fundFromTreasury(address token, uint256 amount) private returns (bool) {
        (uint256 cap,,) = s.treasury.epochCap(token);
        uint256 spentBefore = s.treasury.epochSpent(token, s.treasury.currentEpoch());
        _asDao();
        try s.treasury.transfer(token, address(s.budget), amount, bytes32("budget")) {}
        catch {
            return false;
        }
        uint256 spent = s.treasury.epochSpent(token, s.treasury.currentEpoch());
        if (cap != type(uint256).max && spent > spentBefore && spent > cap) ++capViolations;
        return true;
    }

    function submitProject(uint256 actorSeed, uint256 roundSeed, uint256 recipientSeed, uint256 cost) external {
        (uint256 id, IParticipatoryBudget.Round memory r, bool found) = _round(roundSeed, Phase.Submission);
        if (!found || r.projectCount >= 8) return;
        address who = _member(actorSeed);
        if (who == address(0)) return;
        vm.prank(who);
        s.budget.submitProject(id, _actor(recipientSeed), _bound(cost, 1, r.budget), "ipfs://project");
        _did("budget: submit project");
    }

    /// @dev A membership's ballot, cast (or changed) by the key that holds it now; a ballot a rotated membership
    /// casts again from its new key replaces the old one and is not a second ballot.
    function castBallot(uint256 actorSeed, uint256 roundSeed, uint256 approvals) external {
        (uint256 id, IParticipatoryBudget.Round memory r, bool found) = _round(roundSeed, Phase.Voting);
        if (!found || r.projectCount == 0) return;
        if ((actorSeed >> 128) % 3 == 0) _reach(r.votingStart); // now and then end submissions at once
        if (block.timestamp < r.votingStart) return;
        address who = _member(actorSeed);
        if (who == address(0)) return;
        uint256 bitmap = approvals & ((1 << r.projectCount) - 1);
        uint256 n = _popcount(bitmap);
        if (n < r.minApprovals || n > r.maxApprovals) return;
        uint256 membership = s.registry.membershipOf(who);
        vm.prank(who);
        s.budget.castBallot(id, bitmap);
        if (!_voted[id][membership]) {
            _voted[id][membership] = true;
            ++voters[id];
            _did("budget: cast ballot");
        } else {
            _did("budget: change ballot");
        }
    }

    /// @dev Anyone posts an outcome: projects from a seeded position on, each added while it fits the budget.
    function postOutcome(uint256 roundSeed, uint256 startSeed) external {
        (uint256 id, IParticipatoryBudget.Round memory r, bool found) = _round(roundSeed, Phase.Posting);
        if (!found) return;
        _reach(r.votingEnd);
        if (block.timestamp < r.votingEnd) return;
        uint256 winners;
        uint256 cost;
        for (uint256 k; k < r.projectCount; ++k) {
            uint256 index = (startSeed % r.projectCount + k) % r.projectCount;
            uint256 c = s.budget.getProject(id, index).cost;
            if (cost + c <= r.budget) {
                cost += c;
                winners |= 1 << index;
            }
        }
        s.budget.postOutcome(id, winners, keccak256(abi.encode(r.ballotLog)), RULE);
        _did("budget: post outcome");
    }

    function finalizeRound(uint256 roundSeed) external {
        (uint256 id, IParticipatoryBudget.Round memory r, bool found) = _round(roundSeed, Phase.Posted);
        if (!found) return;
        _reach(r.postedAt + r.challengePeriod);
        if (block.timestamp < r.postedAt + r.challengePeriod) return;
        s.budget.finalizeRound(id);
        _did("budget: finalize round");
    }

    /// @dev The DAO cancels a round that was not finalized (its whole budget returns to the treasury).
    function cancelRound(uint256 roundSeed) external {
        uint256 rounds = s.budget.roundCount();
        if (rounds == 0 || (roundSeed >> 128) % 4 != 0) return; // rarely: most rounds should run to the end
        uint256 id = roundSeed % rounds;
        BudgetRoundStatus st = s.budget.getRound(id).status;
        if (st == BudgetRoundStatus.Finalized || st == BudgetRoundStatus.Cancelled) return;
        _asDao();
        s.budget.cancelRound(id);
        _did("budget: cancel round");
    }

    /// @dev "Nothing owed becomes unwithdrawable": a positive claimable payout always claims, exactly.
    function claimPayout(uint256 roundSeed, uint256 projectSeed) external {
        uint256 rounds = s.budget.roundCount();
        if (rounds == 0) return;
        uint256 id = roundSeed % rounds;
        IParticipatoryBudget.Round memory r = s.budget.getRound(id);
        if (r.status != BudgetRoundStatus.Finalized || r.projectCount == 0) return;
        uint256 index = projectSeed % r.projectCount;
        if (r.winners & (1 << index) == 0) return;
        _reach(r.finalizedAt + (projectSeed >> 8) % (r.payoutDuration + 1));
        uint256 due = s.budget.claimable(id, index);
        if (due == 0) return;
        address recipient = s.budget.getProject(id, index).recipient;
        uint256 before = _balanceOf(r.token, recipient);
        vm.prank(recipient);
        try s.budget.claimPayout(id, index) {
            _did("budget: claim payout");
            if (_balanceOf(r.token, recipient) != before + due) ++unclaimable;
        } catch {
            ++unclaimable;
        }
    }

    enum Phase {
        Submission,
        Voting,
        Posting,
        Posted
    }

    /// @dev The first round from a seeded position in the wanted phase.
    function _round(uint256 seed, Phase phase)
        private
        view
        returns (uint256 id, IParticipatoryBudget.Round memory r, bool found)
    {
        uint256 rounds = s.budget.roundCount();
        for (uint256 k; k < rounds; ++k) {
            id = (seed % rounds + k) % rounds;
            r = s.budget.getRound(id);
            if (phase == Phase.Posted) {
                if (r.status == BudgetRoundStatus.Posted) return (id, r, true);
                continue;
            }
            if (r.status != BudgetRoundStatus.Open) continue;
            if (phase == Phase.Submission && block.timestamp < r.votingStart) return (id, r, true);
            if (phase == Phase.Voting && block.timestamp < r.votingEnd) return (id, r, true);
            // an outcome is posted once voting is over, or nearly (posting does not cut a round's voting short)
            if (phase == Phase.Posting && block.timestamp + 1 days >= r.votingEnd) return (id, r, true);
        }
        return (0, r, false);
    }

    /// @dev A key holding a membership, from a seeded position (address(0) when nobody does).
    function _member(uint256 seed) private view returns (address) {
        for (uint256 k; k < _actors.length; ++k) {
            address a = _actor(seed % _actors.length + k);
            if (s.registry.membershipOf(a) != 0) return a;
        }
        return address(0);
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) {
            ++n;
        }
    }
}
