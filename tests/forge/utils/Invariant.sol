// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The Forge cheatcodes these tests use (the subset of forge-std's `Vm`, whose official package is not on
/// a registry this project can reach; the cheatcode address and signatures are Forge's own).
interface Vm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function deal(address account, uint256 newBalance) external;
    function label(address account, string calldata newLabel) external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function assertTrue(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
}

/// @notice What Forge's invariant runner reads from a test contract to know which calls to make (the
/// `StdInvariant` interface of forge-std): only the listed selectors of the listed handler are fuzzed.
abstract contract InvariantTest {
    /// @dev Forge's cheatcode address: address(bytes20(uint160(uint256(keccak256("hevm cheat code"))))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    /// @dev Fuzz only `selectors` of `target`.
    function _target(address target, bytes4[] memory selectors) internal {
        _targetContracts.push(target);
        _targetSelectors.push(FuzzSelector(target, selectors));
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }
}
