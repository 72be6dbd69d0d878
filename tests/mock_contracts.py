"""The test-only contracts (``contracts/mocks/``): built on demand, never shipped.

Importing this module builds them into ``build/test-contracts/`` when that build is missing or stale (the
same compiler as ``civicdao compile``, ~15 s the first time; cached after), and makes them loadable by name
(``deploy_contract(w3, signer, "MockReverter")``) and their custom errors decodable. ``conftest.py`` imports
it, so every test sees them; a test that names a mock's error imports the class from here.
"""

from __future__ import annotations

from civicdao.build import use_mock_contracts
from civicdao.reverts import revert_class

use_mock_contracts()

MockCitizenRegistryNoHolder = revert_class("MockCitizenRegistryNoHolder")
MockFeeSinkRefused = revert_class("MockFeeSinkRefused")
MockFeeSinkWrongValue = revert_class("MockFeeSinkWrongValue")
MockMetamorphicFactoryDeployFailed = revert_class("MockMetamorphicFactoryDeployFailed")
MockReentrantAttackerOnlySelf = revert_class("MockReentrantAttackerOnlySelf")
MockReverterCustom = revert_class("MockReverterCustom")
