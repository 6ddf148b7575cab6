"""Dataset passes: collections of images, one streaming scan, top patches and embeddings."""
from __future__ import annotations

from .embedding import features, mosaic, neighbours, project, warm_umap
from .patches import receptive_field, top_patches
from .scan import ScanInfo, scan
from .sources import Collection, collection

__all__ = ["Collection", "ScanInfo", "collection", "features", "mosaic", "neighbours", "project", "receptive_field", "scan", "top_patches", "warm_umap"]
