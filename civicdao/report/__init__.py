"""The public treasury report: where the commons' money came from and where it went.

:func:`treasury_figures` computes every figure from the event index (no RPC); :func:`write_report`
writes ``report.html`` with PNG charts (matplotlib, Agg backend) and ``report.json`` with the same
figures, into a directory. Amounts are in the token's smallest unit (wei for ETH) in the JSON, and in
whole tokens (18 decimals) on the charts.
"""

from civicdao.report.figures import ReportFigures, treasury_figures
from civicdao.report.render import ReportFiles, write_report

__all__ = ["ReportFigures", "ReportFiles", "treasury_figures", "write_report"]
