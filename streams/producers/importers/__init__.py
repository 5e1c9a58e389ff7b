"""Importers: real systems' records (Asterisk queue_log, call-detail CSV) as ccmon events."""

from streams.producers.importers.common import ImportResult, LineProblem
from streams.producers.importers.csv_calls import CsvMapping, import_csv, load_mapping
from streams.producers.importers.queue_log import QueueLogImporter, import_queue_log

__all__ = [
    "CsvMapping",
    "ImportResult",
    "LineProblem",
    "QueueLogImporter",
    "import_csv",
    "import_queue_log",
    "load_mapping",
]
