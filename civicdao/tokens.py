"""Tokens as the exchange and the treasury use them: :data:`ETH`, the minimal ERC-20 ABI, an allowance helper.

Native ether is the token address :data:`ETH` (the zero address, as Uniswap v4's ``Currency`` has it) in
every listing, booking, donation and grant.

Both contracts pull ERC-20 payments with ``transferFrom``, so a payer first approves the contract for at
least the amount. :func:`ensure_allowance` reads the current allowance and sends an ``approve`` for the
exact amount only when it falls short.
"""

from __future__ import annotations

import logging
from typing import Any

from eth_typing import ChecksumAddress, HexAddress, HexStr
from web3 import Web3

from civicdao.accounts import Signer, checksum
from civicdao.tx import TxRecord, call, transact

__all__ = ["ERC20_ABI", "ETH", "ZERO_ADDRESS", "ensure_allowance"]

logger = logging.getLogger(__name__)

#: The zero address (no account: "nobody", "none chosen").
ZERO_ADDRESS: ChecksumAddress = ChecksumAddress(HexAddress(HexStr("0x" + "00" * 20)))
#: The token address that stands for ether in the exchange and the treasury.
ETH: ChecksumAddress = ZERO_ADDRESS

#: The part of the ERC-20 interface CivicDAO calls: allowance, approve and balanceOf.
ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


def ensure_allowance(w3: Web3, signer: Signer, token: str, spender: str, amount: int) -> TxRecord | None:
    """Let ``spender`` pull ``amount`` of ``token`` from ``signer``: approve exactly ``amount`` when the
    current allowance is short (returns that approval's record), else send nothing and return None."""
    erc20 = w3.eth.contract(address=checksum(token, what="token"), abi=ERC20_ABI)
    spender = checksum(spender, what="spender")
    if int(call(erc20.functions.allowance(signer.address, spender))) >= amount:
        return None
    logger.info("approving %d of %s for %s from %s", amount, erc20.address, spender, signer.address)
    return transact(w3, signer, erc20.functions.approve(spender, amount))
