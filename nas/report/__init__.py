"""Reports of a study: CSV tables and the Pareto plot, built from the study (no torch)."""

from nas.report.tables import pareto_frame, trials_frame, write_outputs

__all__ = ["pareto_frame", "trials_frame", "write_outputs"]
