// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPublicTreasury} from "../../../contracts/interfaces/IPublicTreasury.sol";
import {HandlerBase, Suite} from "./HandlerBase.sol";

/// @notice Donors, the DAO (pranked as the timelock) and grantees: donate, set caps, transfer, stream and
/// milestone grants (release, cancel, claim), quadratic-funding rounds (open, contribute, finalize, claim), and
/// the passage of time (which also moves epochs and bookings). Every spending decision records whether it kept
/// within the cap in force when it was made; every claim of a positive amount must pay exactly that amount.
contract TreasuryHandler is HandlerBase {
    uint256 public constant MAX_GRANTS = 12;
    uint256 public constant MAX_ROUNDS = 8;

    /// @notice Spending decisions that took an epoch's spending past the cap in force before them, and cap raises
    /// that applied within the epoch they were made in (must stay 0).
    uint256 public capViolations;
    /// @notice Claims of a positive grant or round amount that failed or paid another amount, and ended rounds
    /// that could not be finalized (must stay 0).
    uint256 public unclaimable;
    /// @notice Claims (grant or QF payout) a key made after its membership rotated away (must stay 0).
    uint256 public oldKeyClaims;
    /// @notice Spending decisions that went through (how much of the campaign exercised the caps).
    uint256 public spends;

    constructor(Suite memory suite, address[] memory actors_, address resolver) HandlerBase(suite, actors_, resolver) {}

    /// @dev Minutes, hours or days pass (so votes, delays, slots, windows and epochs all get to end).
    function warp(uint256 secondsSeed) external {
        uint256[3] memory scale = [uint256(1 minutes), 1 hours, 1 days];
        vm.warp(block.timestamp + scale[secondsSeed % 3] * _bound(secondsSeed >> 8, 1, 30));
    }

    function donate(uint256 actorSeed, uint256 tokenSeed, uint256 amount) external {
        address donor = _actor(actorSeed);
        address token = _tokenOf(tokenSeed);
        amount = _bound(amount, 1, 5e18);
        _fund(donor, token, amount, address(s.treasury));
        vm.prank(donor);
        if (token == address(0)) {
            s.treasury.donate{value: amount}(bytes32("gift"));
        } else {
            s.treasury.donateToken(token, amount, bytes32("gift"));
        }
        _did("donate");
    }

    /// @dev A raise must not apply before the next epoch (a captured vote cannot lift the cap and spend at once).
    function setEpochCap(uint256 tokenSeed, uint256 capSeed) external {
        uint256[4] memory choices = [uint256(0), 3e17, 2e18, type(uint256).max];
        address token = _tokenOf(tokenSeed);
        (uint256 before,,) = s.treasury.epochCap(token);
        _asDao();
        s.treasury.setEpochCap(token, choices[capSeed % 4]);
        (uint256 now_,,) = s.treasury.epochCap(token);
        if (now_ > before) ++capViolations;
        _did("set cap");
    }

    function transfer(uint256 tokenSeed, uint256 toSeed, uint256 amount) external {
        address token = _tokenOf(tokenSeed);
        (uint256 cap, uint256 spentBefore) = _capNow(token);
        _asDao();
        try s.treasury.transfer(token, _actor(toSeed), _bound(amount, 1, 1e18), bytes32("pay")) {
            _checkCap(token, cap, spentBefore);
        } catch {}
    }

    function createStreamGrant(uint256 tokenSeed, uint256 toSeed, uint256 amount, uint256 timing) external {
        if (s.treasury.grantCount() >= MAX_GRANTS) return;
        address token = _tokenOf(tokenSeed);
        (uint256 cap, uint256 spentBefore) = _capNow(token);
        uint64 duration = uint64(_bound(timing, 1 hours, 20 days));
        uint64 cliff = uint64((timing >> 64) % (duration + 1));
        _asDao();
        try s.treasury
            .createStreamGrant(
                token, _actor(toSeed), _bound(amount, 1, 1e18), uint64(block.timestamp), cliff, duration
            ) {
            _checkCap(token, cap, spentBefore);
        } catch {}
    }

    function createMilestoneGrant(uint256 tokenSeed, uint256 toSeed, uint256 amount) external {
        if (s.treasury.grantCount() >= MAX_GRANTS) return;
        address token = _tokenOf(tokenSeed);
        (uint256 cap, uint256 spentBefore) = _capNow(token);
        uint256[] memory tranches = new uint256[](1 + (amount % 3));
        for (uint256 i; i < tranches.length; ++i) {
            tranches[i] = _bound(amount >> (8 * i), 1, 4e17);
        }
        _asDao();
        try s.treasury.createMilestoneGrant(token, _actor(toSeed), tranches) {
            _checkCap(token, cap, spentBefore);
        } catch {}
    }

    function releaseTranche(uint256 grantSeed, uint256 index) external {
        uint256 count = s.treasury.grantCount();
        if (count == 0) return;
        _asDao();
        try s.treasury.releaseTranche(grantSeed % count, index % 3) {
            _did("release tranche");
        } catch {}
    }

    function cancelGrant(uint256 grantSeed) external {
        uint256 count = s.treasury.grantCount();
        if (count == 0) return;
        bool revoked = s.treasury.grantClaimant(grantSeed % count) == address(0);
        _asDao();
        try s.treasury.cancelGrant(grantSeed % count) {
            _did(revoked ? "cancel grant of revoked recipient" : "cancel grant");
            if (revoked && s.treasury.claimableAmount(grantSeed % count) != 0) ++unclaimable;
        } catch {}
    }

    /// @dev "Nothing owed becomes unwithdrawable": a positive claimable amount always claims, exactly, by the
    /// grant's claimant now (the current key of a citizen recipient's membership). A key the membership rotated
    /// away from must be refused.
    function claimGrant(uint256 grantSeed) external {
        uint256 count = s.treasury.grantCount();
        if (count == 0) return;
        uint256 id;
        uint256 due;
        for (uint256 k; k < count && due == 0; ++k) {
            id = (grantSeed % count + k) % count;
            due = s.treasury.claimableAmount(id);
        }
        if (due == 0) return;
        IPublicTreasury.Grant memory g = s.treasury.getGrant(id);
        address claimant = s.treasury.grantClaimant(id);
        if (claimant != g.recipient) {
            vm.prank(g.recipient);
            try s.treasury.claim(id) {
                ++oldKeyClaims;
            } catch {
                _did("old key refused: grant claim");
            }
        }
        uint256 before = _balanceOf(g.token, claimant);
        vm.prank(claimant);
        try s.treasury.claim(id) {
            _did(claimant == g.recipient ? "claim grant" : "claim grant after rotation");
            if (_balanceOf(g.token, claimant) != before + due) ++unclaimable;
        } catch {
            ++unclaimable;
        }
    }

    /// @dev The DAO cancels the payout of a finalized project whose recipient's membership was revoked.
    function cancelProjectPayout(uint256 roundSeed, uint256 projectSeed) external {
        uint256 rounds = s.treasury.roundCount();
        if (rounds == 0) return;
        uint256 id = roundSeed % rounds;
        IPublicTreasury.Round memory r = s.treasury.getRound(id);
        if (!r.finalized) return;
        for (uint256 k; k < r.projectCount; ++k) {
            uint256 index = (projectSeed % r.projectCount + k) % r.projectCount;
            IPublicTreasury.Project memory p = s.treasury.getProject(id, index);
            if (p.claimed || p.membership == 0 || s.treasury.projectClaimant(id, index) != address(0)) continue;
            _asDao();
            s.treasury.cancelProjectPayout(id, index);
            _did("cancel payout of revoked recipient");
            return;
        }
    }

    function openRound(uint256 tokenSeed, uint256 pool, uint256 projectSeed) external {
        if (s.treasury.roundCount() >= MAX_ROUNDS) return;
        address token = _tokenOf(tokenSeed);
        (uint256 cap, uint256 spentBefore) = _capNow(token);
        address[] memory projects = new address[](3);
        for (uint256 i; i < 3; ++i) {
            projects[i] = _actor((projectSeed % ACTORS) + i);
        }
        _asDao();
        try s.treasury
        .openRound(token, pool % 1e18, projects, uint64(block.timestamp), uint64(block.timestamp + 7 days)) {
            _checkCap(token, cap, spentBefore);
        } catch {}
    }

    function contribute(uint256 actorSeed, uint256 roundSeed, uint256 projectSeed, uint256 amount) external {
        uint256 rounds = s.treasury.roundCount();
        if (rounds == 0) return;
        uint256 id;
        IPublicTreasury.Round memory r;
        bool open;
        for (uint256 k; k < rounds && !open; ++k) {
            id = (roundSeed % rounds + k) % rounds; // the first round from a seeded position that is open
            r = s.treasury.getRound(id);
            open = block.timestamp >= r.start && block.timestamp < r.end;
        }
        if (!open) return;
        address who = _actor(actorSeed);
        amount = _bound(amount, 1, 1e17);
        _fund(who, r.token, amount, address(s.treasury));
        vm.prank(who);
        s.treasury.contribute{value: r.token == address(0) ? amount : 0}(id, projectSeed % r.projectCount, amount);
        _did(s.registry.isCitizen(who) ? "contribute (matched)" : "contribute");
    }

    function finalizeRound(uint256 roundSeed) external {
        uint256 rounds = s.treasury.roundCount();
        if (rounds == 0) return;
        uint256 id = roundSeed % rounds;
        IPublicTreasury.Round memory r = s.treasury.getRound(id);
        if (r.finalized) return;
        _reach(r.end);
        if (block.timestamp < r.end) return;
        // An ended round must always finalize: otherwise its contributions and pool would be stuck.
        try s.treasury.finalizeRound(id) {
            _did(s.treasury.getRound(id).totalMatching > 0 ? "finalize round with matching" : "finalize round");
        } catch {
            ++unclaimable;
        }
    }

    /// @dev A finalized project's payout is claimed by its claimant now (the current key of a citizen recipient's
    /// membership); the recorded recipient key, once rotated away, must be refused; a revoked one has no claimant
    /// (the DAO cancels the payout instead, see cancelProjectPayout).
    function claimRound(uint256 roundSeed, uint256 projectSeed) external {
        uint256 rounds = s.treasury.roundCount();
        if (rounds == 0) return;
        uint256 id = roundSeed % rounds;
        IPublicTreasury.Round memory r = s.treasury.getRound(id);
        uint256 index = projectSeed % r.projectCount;
        IPublicTreasury.Project memory p = s.treasury.getProject(id, index);
        if (!r.finalized || p.claimed) return;
        address claimant = s.treasury.projectClaimant(id, index);
        if (claimant != p.recipient) {
            vm.prank(p.recipient);
            try s.treasury.claimRound(id, index) {
                ++oldKeyClaims;
            } catch {
                _did(claimant == address(0) ? "revoked recipient refused: QF claim" : "old key refused: QF claim");
            }
        }
        if (claimant == address(0)) return;
        uint256 due = p.contributions + p.matching;
        uint256 before = _balanceOf(r.token, claimant);
        vm.prank(claimant);
        try s.treasury.claimRound(id, index) {
            _did(claimant == p.recipient ? "claim round" : "claim round after rotation");
            if (_balanceOf(r.token, claimant) != before + due) ++unclaimable;
        } catch {
            ++unclaimable;
        }
    }

    /// @dev The cap in force now and the epoch's spending so far, read before a spending decision.
    function _capNow(address token) private view returns (uint256 cap, uint256 spentBefore) {
        (cap,,) = s.treasury.epochCap(token);
        spentBefore = s.treasury.epochSpent(token, s.treasury.currentEpoch());
    }

    /// @dev After a spending decision went through: if it added to the epoch's spending, the total must be within
    /// the cap in force (a cap lowered below what was already spent applies at once: nothing more may be spent,
    /// which a zero-amount decision does not break).
    function _checkCap(address token, uint256 cap, uint256 spentBefore) private {
        ++spends;
        _did("spend (transfer, grant or pool)");
        uint256 spent = s.treasury.epochSpent(token, s.treasury.currentEpoch());
        if (cap != type(uint256).max && spent > spentBefore && spent > cap) ++capViolations;
    }
}
