"""Pydantic models of every record kind in `catalog/`."""

from site_builder.records.benchmark import BenchmarkRecord
from site_builder.records.common import Source
from site_builder.records.family import FamilyRecord
from site_builder.records.framework import FrameworkRecord
from site_builder.records.gpu import GpuRecord
from site_builder.records.model import Architecture, ModelRecord
from site_builder.records.provider import ProviderRecord

__all__ = [
    "Architecture",
    "BenchmarkRecord",
    "FamilyRecord",
    "FrameworkRecord",
    "GpuRecord",
    "ModelRecord",
    "ProviderRecord",
    "Source",
]
