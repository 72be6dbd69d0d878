// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {HandlerBase, Suite} from "./HandlerBase.sol";

/// @notice Residents and their votes: register, rotate a lost key, revoke, delegate, propose, vote, queue and
/// execute. Holds REGISTRAR_ROLE itself; DAO-only steps (rotation) are pranked as the timelock.
contract CitizensHandler is HandlerBase {
    uint256 private _credentials;
    uint256[] private _proposals;

    constructor(Suite memory suite, address[] memory actors_, address resolver) HandlerBase(suite, actors_, resolver) {}

    function proposals() external view returns (uint256[] memory) {
        return _proposals;
    }

    /// @dev Also tries keys that already hold a membership (the registry must refuse them).
    function register(uint256 actorSeed) external {
        try s.registry.register(_actor(actorSeed), keccak256(abi.encode("credential", ++_credentials))) {
            _did("register");
        } catch {}
    }

    function rotate(uint256 fromSeed, uint256 toSeed) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        _asDao();
        try s.registry.rotate(from, to) {
            _did("rotate");
        } catch {} // also onto a member, or from a non-member: refused
    }

    function revoke(uint256 actorSeed) external {
        address who = _actor(actorSeed);
        if (!s.registry.isCitizen(who)) return;
        s.registry.revoke(who, 1);
        _did("revoke");
    }

    function delegate(uint256 fromSeed, uint256 toSeed) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        vm.prank(from);
        s.registry.delegate(to);
    }

    function propose(uint256 actorSeed) external {
        address proposer = _actor(actorSeed);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) = _action();
        string memory description = string(abi.encodePacked("invariant proposal #", _u(_proposals.length)));
        vm.prank(proposer);
        try s.governor.propose(targets, values, calldatas, description) returns (uint256 id) {
            _proposals.push(id);
            _did("propose");
        } catch {}
    }

    function castVote(uint256 actorSeed, uint256 proposalSeed, uint8 support) external {
        if (_proposals.length == 0) return;
        uint256 id = _proposal(proposalSeed);
        _reach(s.governor.proposalSnapshot(id) + 1);
        if (s.governor.state(id) != IGovernor.ProposalState.Active) return;
        address voter = _actor(actorSeed);
        if (s.governor.hasVoted(id, voter)) return;
        vm.prank(voter);
        try s.governor.castVote(id, _support(support)) {
            _did("vote");
        } catch {}
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
            s.governor.queue(id);
            _did("queue");
        } else if (state == IGovernor.ProposalState.Queued) {
            _reach(s.governor.proposalEta(id));
            if (block.timestamp < s.governor.proposalEta(id)) return;
            s.governor.execute(id);
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
