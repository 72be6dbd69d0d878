// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The anchor for the gas benchmark (benchmarks/gas_bench.py), never shipped: OpenZeppelin 5.3's stock
// governor exactly as its wizard composes it (no timelock), over a stock ERC20Votes token.

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import { ERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import { ERC20Votes } from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import { Nonces } from "@openzeppelin/contracts/utils/Nonces.sol";
import { IVotes } from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import { Governor } from "@openzeppelin/contracts/governance/Governor.sol";
import { GovernorSettings } from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import { GovernorCountingSimple } from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import { GovernorVotes } from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";

/// @notice A stock ERC20Votes token on the timestamp clock (the wizard's "Timestamp" option, as CivicDAO's
/// registry uses); the deployer mints (one token per holder in the benchmark).
contract StockVotesToken is ERC20, ERC20Permit, ERC20Votes {
    address private immutable _minter;

    constructor() ERC20("Stock Votes", "SVT") ERC20Permit("Stock Votes") {
        _minter = msg.sender;
    }

    /// @notice Mint `amount` to `to` (the deployer only).
    function mint(address to, uint256 amount) external {
        require(msg.sender == _minter, "not minter");
        _mint(to, amount);
    }

    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}

/// @notice OpenZeppelin 5.3's stock governor: Settings, CountingSimple, Votes, VotesQuorumFraction.
contract StockGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction
{
    constructor(IVotes token, uint48 delay, uint32 period, uint256 quorumPercent)
        Governor("StockGovernor")
        GovernorSettings(delay, period, 0)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPercent)
    { }

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function quorum(uint256 blockNumber)
        public
        view
        override(Governor, GovernorVotesQuorumFraction)
        returns (uint256)
    {
        return super.quorum(blockNumber);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }
}
