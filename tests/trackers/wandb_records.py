"""The records of a W&B offline run file (``run-<id>.wandb``), decoded with W&B's own protobuf messages.

wandb 0.31 no longer ships a Python reader for these files (``wandb sync`` is done by its Go core), so the framing
is read here: a 7-byte header (``:W&B``, magic 0xBEE1, version 0), then LevelDB-log blocks of 32 KiB holding
chunks (CRC-32 of type and data, length, type: full, first, middle or last) whose data are ``wandb.proto``
``Record`` messages. The CRC is checked, so a misread fails loudly."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any, Iterator

BLOCK, HEADER = 32768, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def read_records(path: Path) -> Iterator[Any]:
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    assert struct.unpack("<4sHB", data[:HEADER]) == (b":W&B", 0xBEE1, 0), "not a W&B run file"
    pos, pending = HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # a block's tail too short for a chunk header is padding
            pos += left
            continue
        crc, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        if (crc, length, kind) == (0, 0, 0):  # zero padding to the end of a block
            pos += left
            continue
        chunk = data[pos + HEADER:pos + HEADER + length]
        assert zlib.crc32(chunk, zlib.crc32(bytes([kind]))) == crc, f"checksum mismatch at byte {pos}"
        assert kind in (FULL, FIRST, MIDDLE, LAST), f"chunk type {kind} at byte {pos}"
        pending += chunk
        pos += HEADER + length
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record
