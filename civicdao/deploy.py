"""Deploy the CivicDAO suite, wire its roles, hand everything to the Timelock, and load it back.

Order: CitizenRegistry, CivicTimelock, CivicGovernor, PublicTreasury, CommonsExchange; then the role
wiring; last, the deployer renounces every role it held. Each step is recorded in the manifest as soon
as it is mined, and each wiring step checks the chain before acting, so re-running an interrupted
deployment with the same manifest finishes it without deploying or granting anything twice.

Resuming never races a transaction of the interrupted run: every transaction's hash (and, for a contract
creation, its nonce and the address it will create) is in the manifest before it is broadcast, and a
rerun first waits until the deployer has no transaction pending in the node (its pending nonce equals
its mined one). Only then does it look at the chain: a creation that was mined is adopted from its
receipt (or found at its predicted address), one that never landed is sent again. A manifest whose
contracts are not on the chain (a development node restarted empty) is refused with the fix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound

from civicdao.accounts import Signer, checksum
from civicdao.artifacts import load_artifact
from civicdao.config import KINDS, DeployConfig, load_config
from civicdao.contracts import bind, create_address, deploy_contract
from civicdao.errors import DeploymentError
from civicdao.manifest import ContractEntry, Manifest
from civicdao.tokens import ETH
from civicdao.tx import call, transact

__all__ = ["ETH", "SUITE_CONTRACTS", "Suite", "deploy_suite", "load_suite"]

logger = logging.getLogger(__name__)

#: Manifest key → contract name, in deployment order.
SUITE_CONTRACTS: dict[str, str] = {
    "registry": "CitizenRegistry",
    "timelock": "CivicTimelock",
    "governor": "CivicGovernor",
    "treasury": "PublicTreasury",
    "exchange": "CommonsExchange",
    "budget": "ParticipatoryBudget",
}
DEFAULT_ADMIN_ROLE = b"\x00" * 32
#: Manifest ``pending`` keys of configuration transactions start with this (contract keys do not).
STEP_PREFIX = "step:"
#: How long a resumed deployment waits for the interrupted run's transactions to be mined.
DEFAULT_SETTLE_TIMEOUT = 300.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Suite:
    """A deployed CivicDAO: the bound contracts and the manifest they came from."""

    w3: Web3
    manifest: Manifest
    registry: Contract
    timelock: Contract
    governor: Contract
    treasury: Contract
    exchange: Contract
    budget: Contract

    @property
    def chain_id(self) -> int:
        return self.manifest.chain_id

    def addresses(self) -> dict[str, ChecksumAddress]:
        return {key: to_checksum_address(self.manifest.address(key)) for key in SUITE_CONTRACTS}


def deploy_suite(
    w3: Web3,
    deployer: Signer,
    config: DeployConfig | None = None,
    *,
    manifest_path: str | Path | None = None,
    progress: Progress | None = None,
    fresh: bool = False,
    settle_timeout: float = DEFAULT_SETTLE_TIMEOUT,
) -> Suite:
    """Deploy (or finish deploying) the suite and return it.

    With ``manifest_path``, the manifest is written after every step; when it already exists for this
    chain, the deployment resumes from it (``config`` must then match the recorded one, or be None).
    ``fresh=True`` sets an existing manifest aside (renamed ``<name>.replaced-<unix time>.json``) and
    deploys anew. Before sending anything, a resumed deployment waits up to ``settle_timeout`` seconds for
    the deployer's pending transactions to be mined.

    Raises:
        DeploymentError: the manifest belongs to another chain or deployer, its config differs, its
            contracts are not on this chain, or the deployer's pending transactions did not settle.
        ContractRevert, TransactionError: a step failed; the manifest keeps every step done so far.
        NetworkError: the node stopped answering; the manifest keeps every step done or sent so far.
    """
    if fresh and manifest_path is not None:
        _set_aside(Path(manifest_path))
    manifest = _open_manifest(w3, deployer, config, manifest_path)
    run = _Deployment(
        w3, deployer, load_config(overrides=_config_values(manifest.config)), manifest, progress
    )
    run.settle(settle_timeout)
    run.deploy_contracts()
    run.wire_roles()
    manifest.complete = True
    manifest.save()
    run.say("deployment complete")
    return load_suite(w3, manifest)


def load_suite(w3: Web3, manifest: Manifest | str | Path) -> Suite:
    """Bind the contracts recorded in a manifest, after checking the chain id and that code is there."""
    if not isinstance(manifest, Manifest):
        manifest = Manifest.load(manifest)
    chain_id = w3.eth.chain_id
    if manifest.chain_id != chain_id:
        raise DeploymentError(
            f"the manifest is for chain {manifest.chain_id}, but the node serves chain {chain_id}"
        )
    bound: dict[str, Contract] = {}
    for key, name in SUITE_CONTRACTS.items():
        address = manifest.address(key)
        if not w3.eth.get_code(to_checksum_address(address)):
            raise DeploymentError(f"no code at {address} ({name}): the manifest does not match this chain")
        bound[key] = bind(w3, name, address)
    return Suite(w3=w3, manifest=manifest, **bound)


# -- internals ------------------------------------------------------------------------------------------


def _config_values(recorded: dict[str, Any]) -> dict[str, Any]:
    values = dict(recorded)
    values.pop("preset", None)
    return values


def _open_manifest(
    w3: Web3, deployer: Signer, config: DeployConfig | None, path: str | Path | None
) -> Manifest:
    chain_id = w3.eth.chain_id
    if path is not None and Path(path).exists():
        manifest = Manifest.load(path)
        if manifest.chain_id != chain_id:
            raise DeploymentError(f"{path} records a deployment on chain {manifest.chain_id}, not {chain_id}")
        if manifest.deployer != deployer.address:
            raise DeploymentError(f"{path} was deployed by {manifest.deployer}, not {deployer.address}")
        if config is not None and config.to_dict() != manifest.config:
            raise DeploymentError(
                f"{path} was started with another config: resume with the same one, or move it"
            )
        _check_recorded_code(w3, manifest, Path(path))
        return manifest
    chosen = config or load_config()
    if not chosen.registrars and not chosen.deployer_is_registrar:
        raise DeploymentError(
            f"the {chosen.preset} config leaves nobody able to register citizens, so nobody could ever vote "
            "to appoint a registrar: set `registrars` (the city's registry office) or deployer_is_registrar"
        )
    manifest = Manifest(chain_id, deployer.address, chosen.to_dict(), path=Path(path) if path else None)
    manifest.save()
    return manifest


def _check_recorded_code(w3: Web3, manifest: Manifest, path: Path) -> None:
    """Refuse a manifest whose recorded contracts have no code here (a development node restarted empty)."""
    for key in (key for key in SUITE_CONTRACTS if key in manifest.contracts):
        entry = manifest.contracts[key]
        if not w3.eth.get_code(to_checksum_address(entry.address)):
            raise DeploymentError(
                f"{path} records {entry.name} ({key}) at {entry.address}, but chain {manifest.chain_id} "
                "has no code there (was the node restarted empty?): deploy anew with --fresh "
                f"(fresh=True), or delete {path}"
            )


def _set_aside(path: Path) -> None:
    if path.exists():
        aside = path.with_name(f"{path.stem}.replaced-{int(time.time())}{path.suffix}")
        path.rename(aside)
        logger.info("moved the old manifest %s to %s", path, aside)


class _Deployment:
    def __init__(
        self, w3: Web3, deployer: Signer, config: DeployConfig, manifest: Manifest, progress: Progress | None
    ) -> None:
        self.w3 = w3
        self.deployer = deployer
        self.config = config
        self.manifest = manifest
        self.progress = progress
        self.contracts: dict[str, Contract] = {}

    def say(self, message: str) -> None:
        logger.info(message)
        if self.progress is not None:
            self.progress(message)

    # -- contracts ------------------------------------------------------------------------------------

    def deploy_contracts(self) -> None:
        config = self.config
        guardian = checksum(config.guardian, what="guardian") if config.guardian else self.deployer.address
        expiry = self._now() + config.guardian_expiry_after if config.guardian_expiry_after else 0
        self._contract("registry", lambda: (self.deployer.address,))
        self._contract("timelock", lambda: (config.timelock_delay, [], [], self.deployer.address))
        governor_config = (
            config.voting_delay,
            config.voting_period,
            config.proposal_threshold,
            config.quorum_percent,
            config.vote_extension,
            guardian,
            expiry,
        )
        self._contract(
            "governor",
            lambda: (
                config.governor_name,
                self._address("registry"),
                self._address("timelock"),
                governor_config,
            ),
        )
        self._contract(
            "treasury",
            lambda: (self.deployer.address, self._address("registry"), config.treasury_epoch_length),
        )
        self._contract(
            "exchange",
            lambda: (
                self.deployer.address,
                self._address("registry"),
                self._address("treasury"),
                config.claim_window,
                config.dispute_window,
                config.delivery_window,
            ),
        )
        # ParticipatoryBudget comes last; the Timelock administers it from its creation: nothing to hand over.
        self._contract(
            "budget",
            lambda: (self._address("timelock"), self._address("registry"), self._address("treasury")),
        )

    def settle(self, timeout: float) -> None:
        """Wait until the deployer has no transaction pending: what an interrupted run sent is mined first."""
        me = self.deployer.address
        deadline = time.monotonic() + timeout
        said = False
        while True:
            mined = self.w3.eth.get_transaction_count(me, "latest")
            pending = self.w3.eth.get_transaction_count(me, "pending")
            if pending <= mined:
                return
            if not said:
                self.say(
                    f"waiting for {pending - mined} pending transaction(s) from {me} "
                    f"(nonce {mined}…{pending - 1}) to be mined before sending anything"
                )
                said = True
            if time.monotonic() >= deadline:
                raise DeploymentError(
                    f"{pending - mined} transaction(s) from {me} are still pending after {timeout:.0f}s "
                    f"(nonce {mined}…{pending - 1}): wait until the node mines or drops them, then run "
                    "the deployment again (it resumes from the manifest)"
                )
            time.sleep(0.25)

    def _contract(self, key: str, args: Callable[[], tuple[Any, ...]]) -> None:
        name = SUITE_CONTRACTS[key]
        if key in self.manifest.contracts:
            self.contracts[key] = bind(self.w3, name, self.manifest.address(key))
            self.say(f"{name} already at {self.manifest.address(key)}")
            return
        if self._adopt_pending(key, name):
            return
        nonce = self.w3.eth.get_transaction_count(self.deployer.address, "pending")
        predicted = create_address(self.deployer.address, nonce)
        self.manifest.pending[key] = {"address": predicted, "nonce": nonce, "txHash": None}
        self.manifest.save()
        self.say(f"deploying {name}")
        contract, record = deploy_contract(self.w3, self.deployer, name, *args(), on_sent=self._sent(key))
        self._record(key, name, contract.address, record.tx_hash, record.block_number)
        self.contracts[key] = contract
        self.say(f"{name} deployed at {record.contract_address} (gas {record.gas_used:,})")

    def _sent(self, pending_key: str) -> Callable[[str], None]:
        """Record a transaction's hash under ``pending_key`` before it is broadcast (key held here)."""

        def record(tx_hash: str) -> None:
            self.manifest.pending.setdefault(pending_key, {})["txHash"] = tx_hash
            self.manifest.save()

        return record

    def _adopt_pending(self, key: str, name: str) -> bool:
        """Adopt a creation the interrupted run sent and the chain mined (called once nonces settled)."""
        pending = self.manifest.pending.get(key)
        if not pending:
            return False
        receipt = self._receipt(pending.get("txHash"))
        if receipt is not None and receipt["status"] == 1 and receipt.get("contractAddress"):
            address = to_checksum_address(receipt["contractAddress"])
            tx_hash, block = HexBytes(receipt["transactionHash"]).to_0x_hex(), int(receipt["blockNumber"])
        else:
            address = to_checksum_address(pending["address"])
            tx_hash, block = "(sent before an interruption)", self.w3.eth.block_number
        if not self.w3.eth.get_code(address):
            return False  # the creation never landed (or reverted): deploy again
        self._record(key, name, address, tx_hash=tx_hash, block=block)
        self.contracts[key] = bind(self.w3, name, address)
        self.say(f"{name} found at {address} after an interruption")
        return True

    def _receipt(self, tx_hash: Any) -> Any:
        if not isinstance(tx_hash, str) or not tx_hash:
            return None
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def _record(self, key: str, name: str, address: str, tx_hash: str, block: int) -> None:
        artifact_hash = Web3.keccak(hexstr=load_artifact(name).bytecode).to_0x_hex()
        self.manifest.contracts[key] = ContractEntry(name, address, tx_hash, block, artifact_hash)
        self.manifest.pending.pop(key, None)
        self.manifest.save()

    def _address(self, key: str) -> ChecksumAddress:
        return to_checksum_address(self.manifest.address(key))

    def _now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # -- roles ----------------------------------------------------------------------------------------

    def wire_roles(self) -> None:
        config = self.config
        registry, timelock = self.contracts["registry"], self.contracts["timelock"]
        governor, treasury, exchange = (
            self.contracts["governor"],
            self.contracts["treasury"],
            self.contracts["exchange"],
        )
        guardian = checksum(config.guardian, what="guardian") if config.guardian else self.deployer.address
        me = self.deployer.address

        for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
            self._grant(timelock, role, governor.address)
        # The guardian cancels through the governor (which cancels the Timelock operation too), so its power
        # ends at the governor's guardian expiry; a Timelock role would outlive that expiry.

        registrars = [checksum(a, what="registrar") for a in config.registrars]
        if config.deployer_is_registrar:
            registrars.append(me)
        for registrar in registrars:
            self._grant(registry, "REGISTRAR_ROLE", registrar)

        self._setting(
            "treasury.epochCap.ETH",
            lambda: config.treasury_eth_cap in call(treasury.functions.epochCap(ETH))[:2],
            treasury.functions.setEpochCap(ETH, config.treasury_eth_cap),
        )
        # The exchange's DAO settings change through its settings contract (GOVERNOR_ROLE on the exchange).
        settings = bind(self.w3, "ExchangeSettings", call(exchange.functions.settings()))
        for index, kind in enumerate(KINDS):
            self._fee(exchange, settings, index, kind, config.exchange_fee_bps.get(kind, 0))
        self._setting(
            "exchange.housingPriceCeiling.ETH",
            lambda: call(exchange.functions.housingPriceCeiling(ETH)) == config.housing_price_ceiling,
            settings.functions.setHousingPriceCeiling(ETH, config.housing_price_ceiling),
        )
        self._setting(
            "exchange.housingListingCap",
            lambda: call(exchange.functions.housingListingCap()) == config.housing_listing_cap,
            settings.functions.setHousingListingCap(config.housing_listing_cap),
        )
        self._grant(exchange, "GUARDIAN_ROLE", guardian)
        # The exchange guardian's pause power ends when the governor's guardian does (read from the governor,
        # so a resumed deployment sets the same time).
        guardian_expiry = int(call(governor.functions.proposalGuardianExpiry()))
        self._setting(
            "exchange.guardianExpiry",
            lambda: call(settings.functions.guardianExpiry()) == guardian_expiry,
            settings.functions.setGuardianExpiry(guardian_expiry),
        )
        for resolver in config.resolvers:
            self._grant(exchange, "RESOLVER_ROLE", checksum(resolver, what="resolver"))

        # A rotation or revocation moves what the old key is owed on the exchange in the same transaction.
        self._setting(
            "registry.membershipHook",
            lambda: call(registry.functions.membershipHook()) == exchange.address,
            registry.functions.setMembershipHook(exchange.address),
        )

        # Hand over: the Timelock administers everything, then the deployer lets go of every role.
        self._grant(registry, DEFAULT_ADMIN_ROLE, timelock.address)
        self._grant(treasury, "GOVERNOR_ROLE", timelock.address)
        self._grant(treasury, DEFAULT_ADMIN_ROLE, timelock.address)
        self._grant(exchange, "GOVERNOR_ROLE", timelock.address)
        self._grant(exchange, DEFAULT_ADMIN_ROLE, timelock.address)
        self._renounce(treasury, "GOVERNOR_ROLE")
        self._renounce(exchange, "GOVERNOR_ROLE")
        for contract in (registry, treasury, exchange, timelock):
            self._renounce(contract, DEFAULT_ADMIN_ROLE)

    def _fee(self, exchange: Contract, settings: Contract, kind_index: int, kind: str, bps: int) -> None:
        self._setting(
            f"exchange.feeBps.{kind}",
            lambda: call(exchange.functions.feeBps(kind_index)) == bps,
            settings.functions.setFeeBps(kind_index, bps),
        )

    def _role_id(self, contract: Contract, role: str | bytes) -> bytes:
        if isinstance(role, bytes):
            return role
        return bytes(call(getattr(contract.functions, role)()))

    def _grant(self, contract: Contract, role: str | bytes, account: str) -> None:
        role_id = self._role_id(contract, role)
        label = role if isinstance(role, str) else "DEFAULT_ADMIN_ROLE"
        self._setting(
            f"{_key_of(self.contracts, contract)}.grant.{label}.{account}",
            lambda: bool(call(contract.functions.hasRole(role_id, account))),
            contract.functions.grantRole(role_id, account),
        )

    def _renounce(self, contract: Contract, role: str | bytes) -> None:
        role_id = self._role_id(contract, role)
        label = role if isinstance(role, str) else "DEFAULT_ADMIN_ROLE"
        me = self.deployer.address
        self._setting(
            f"{_key_of(self.contracts, contract)}.renounce.{label}",
            lambda: not call(contract.functions.hasRole(role_id, me)),
            contract.functions.renounceRole(role_id, me),
        )

    def _setting(self, key: str, already: Callable[[], bool], fn: ContractFunction) -> None:
        """Send ``fn`` unless the step is recorded or the chain shows it done; record it either way."""
        if key in self.manifest.steps:
            return
        sent = self.manifest.pending.get(STEP_PREFIX + key, {})
        receipt = self._receipt(sent.get("txHash"))  # the interrupted run's transaction, mined since
        if receipt is not None and receipt["status"] == 1:
            self.manifest.steps[key] = {"txHash": sent["txHash"], "block": int(receipt["blockNumber"])}
        elif already():
            self.manifest.steps[key] = {"txHash": None, "block": None}
        else:
            self.say(_describe_step(key))
            self.manifest.pending[STEP_PREFIX + key] = {"txHash": None}
            record = transact(self.w3, self.deployer, fn, on_sent=self._sent(STEP_PREFIX + key))
            self.manifest.steps[key] = {"txHash": record.tx_hash, "block": record.block_number}
        self.manifest.pending.pop(STEP_PREFIX + key, None)
        self.manifest.save()


def _describe_step(key: str) -> str:
    """``exchange.grant.GUARDIAN_ROLE.0xAbc…`` → ``exchange: grant GUARDIAN_ROLE to 0xAbc…``."""
    contract, action, *rest = key.split(".")
    if action == "grant" and len(rest) == 2:
        return f"{contract}: grant {rest[0]} to {rest[1]}"
    if action == "renounce":
        return f"{contract}: deployer renounces {rest[0]}"
    return f"{contract}: set {action}" + (f" for {rest[0]}" if rest else "")


def _key_of(contracts: dict[str, Contract], contract: Contract) -> str:
    return next(key for key, bound in contracts.items() if bound.address == contract.address)
