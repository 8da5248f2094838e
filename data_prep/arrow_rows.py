"""Arrays as Arrow ``binary`` columns: one value per row, its row-major bytes (the Parquet layout of
images and features)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

_BINARY_CHUNK = 65_536  # rows per Arrow chunk: keeps int32 binary offsets far from overflow


def binary_rows(rows: np.ndarray) -> pa.ChunkedArray:
    """Each row of a 2-D+ array as one ``binary`` value (its row-major bytes), without copies per row."""
    rows = np.ascontiguousarray(rows).reshape(len(rows), -1)
    width = rows.shape[1] * rows.itemsize
    chunks = []
    for s in range(0, max(len(rows), 1), _BINARY_CHUNK):
        part = rows[s:s + _BINARY_CHUNK]
        offsets = (np.arange(len(part) + 1, dtype=np.int32) * width).astype(np.int32)
        chunks.append(pa.Array.from_buffers(pa.binary(), len(part), [None, pa.py_buffer(offsets), pa.py_buffer(part.tobytes())]))
    return pa.chunked_array(chunks, pa.binary())
