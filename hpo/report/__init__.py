"""Static reports of a study, drawn from the storage alone: plots, HTML, README.md."""

from hpo.report.writer import Report, write_report

__all__ = ["Report", "write_report"]
