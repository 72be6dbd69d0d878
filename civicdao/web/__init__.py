"""The residents' web app: pages, a read API and the relayer in one process (``civicdao serve``).

:class:`WebData` is the data layer (one method per page need); :func:`create_web_app` (in
``civicdao.web.app``, needs FastAPI) builds the ASGI app. The static front end ships in
``civicdao/web/static``.
"""

from civicdao.web.data import TxRequest, WebData, WebInputError

__all__ = ["TxRequest", "WebData", "WebInputError"]
