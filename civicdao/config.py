"""Deployment configuration: presets for a community's maturity, overridable from TOML or a dict.

A community chooses how far self-government goes, and grows:

``pilot``
    A few streets trying it out. Registrar-led onboarding, an active guardian who can cancel a hostile
    proposal for the first 90 days, short periods (votes last a day), and small treasury caps.
``neighbourhood``
    An established neighbourhood. Periods of days, a meaningful quorum, a guardian that expires after a
    year unless the DAO renews it.
``city``
    A whole city. Week-long votes, a two-day timelock, a higher quorum, larger caps, and the guardian role
    expiring at a set date (``guardian_expiry``; by default 180 days after deployment).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicdao._validate import whole_number
from civicdao.errors import ConfigError
from civicdao.exchange.types import Kind

__all__ = ["PRESETS", "DeployConfig", "load_config"]

HOUR = 3_600
DAY = 24 * HOUR

#: Exchange listing kinds in contract order, by name (:class:`civicdao.exchange.Kind`'s members, lower
#: case); fee basis points are given per kind.
KINDS: tuple[str, ...] = tuple(kind.name.lower() for kind in Kind)


@dataclass(frozen=True)
class DeployConfig:
    """Everything a suite deployment needs to know. Times are seconds; fees are basis points."""

    preset: str = "pilot"
    governor_name: str = "CivicDAO Governor"
    voting_delay: int = 60
    voting_period: int = DAY
    proposal_threshold: int = 1
    quorum_percent: int = 10
    vote_extension: int = HOUR
    timelock_delay: int = HOUR
    #: Guardian who may cancel hostile proposals and pause the exchange; None means the deployer.
    guardian: str | None = None
    #: Seconds after deployment at which the guardian's powers end. Required (more than 0): a guardian
    #: that never expires could cancel every proposal to remove it, a veto the citizens could not lift.
    guardian_expiry_after: int = 90 * DAY
    #: Extra registrars besides the deployer's hand-over (addresses).
    registrars: tuple[str, ...] = ()
    #: Dispute resolvers on the exchange (addresses); without any, disputed deposits go back to renters.
    resolvers: tuple[str, ...] = ()
    #: Whether the deployer keeps the registrar role after deployment (pilots onboard residents by hand).
    deployer_is_registrar: bool = True
    treasury_epoch_length: int = 30 * DAY
    #: Initial per-epoch spending cap in wei of ETH (0 = nothing may be spent until governance sets one).
    treasury_eth_cap: int = 10 * 10**18
    exchange_fee_bps: Mapping[str, int] = field(
        default_factory=lambda: {"room_house": 300, "space": 200, "tool": 100, "skill": 100, "nature": 0}
    )
    claim_window: int = 2 * DAY
    dispute_window: int = 7 * DAY
    delivery_window: int = 7 * DAY
    #: Housing price ceiling per night in wei of ETH (0 = none).
    housing_price_ceiling: int = 0
    #: Active housing listings one lister may have (0 = no cap).
    housing_listing_cap: int = 2

    def __post_init__(self) -> None:
        for name in (
            "voting_delay", "voting_period", "timelock_delay", "vote_extension", "treasury_epoch_length",
            "claim_window", "dispute_window", "delivery_window", "guardian_expiry_after",
            "treasury_eth_cap", "housing_price_ceiling", "housing_listing_cap", "proposal_threshold",
        ):  # fmt: skip
            whole_number(getattr(self, name), name)
        if self.guardian_expiry_after <= 0:
            raise ConfigError(
                "guardian_expiry_after must be more than 0 seconds: a guardian that never expires holds a "
                "veto the citizens could never lift"
            )
        if self.voting_period <= 0:
            raise ConfigError("voting_period must be more than 0 seconds")
        if self.vote_extension > self.voting_period:
            # OZ 5.3: a huge late-quorum extension can overflow the deadline (docs/openzeppelin-5.3-notes.md)
            raise ConfigError("vote_extension must not exceed voting_period")
        if not 1 <= self.quorum_percent <= 100:
            raise ConfigError(f"quorum_percent must be between 1 and 100, got {self.quorum_percent}")
        unknown = set(self.exchange_fee_bps) - set(KINDS)
        if unknown:
            raise ConfigError(
                f"exchange_fee_bps has unknown kinds {sorted(unknown)}; kinds are {list(KINDS)}"
            )
        if any(not 0 <= bps <= 1_000 for bps in self.exchange_fee_bps.values()):
            raise ConfigError("exchange fees must be between 0 and 1000 basis points (10%)")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["exchange_fee_bps"] = dict(self.exchange_fee_bps)
        data["registrars"] = list(self.registrars)
        data["resolvers"] = list(self.resolvers)
        return data


PRESETS: Mapping[str, DeployConfig] = {
    "pilot": DeployConfig(),
    "neighbourhood": DeployConfig(
        preset="neighbourhood",
        voting_delay=DAY,
        voting_period=5 * DAY,
        quorum_percent=15,
        vote_extension=DAY,
        timelock_delay=DAY,
        guardian_expiry_after=365 * DAY,
        treasury_eth_cap=50 * 10**18,
        housing_listing_cap=2,
    ),
    "city": DeployConfig(
        preset="city",
        voting_delay=2 * DAY,
        voting_period=7 * DAY,
        quorum_percent=20,
        vote_extension=2 * DAY,
        timelock_delay=2 * DAY,
        guardian_expiry_after=180 * DAY,
        deployer_is_registrar=False,
        treasury_eth_cap=500 * 10**18,
        housing_listing_cap=1,
    ),
}


def load_config(
    preset: str = "pilot", overrides: Mapping[str, Any] | str | Path | None = None
) -> DeployConfig:
    """A preset, with ``overrides`` from a mapping or a TOML file applied on top.

    Raises:
        ConfigError: unknown preset, unknown key, or a value out of range.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    values: dict[str, Any] = {}
    if isinstance(overrides, str | Path):
        try:
            values = tomllib.loads(Path(overrides).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {overrides} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {overrides} is not valid TOML: {exc}") from None
        preset = str(values.pop("preset", preset))
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    elif overrides is not None:
        values = dict(overrides)
    known = {f.name for f in dataclasses.fields(DeployConfig)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown config keys {sorted(unknown)}; known keys: {', '.join(sorted(known))}")
    for key in ("registrars", "resolvers"):
        if key in values:
            values[key] = tuple(values[key])
    return dataclasses.replace(PRESETS[preset], **values)
