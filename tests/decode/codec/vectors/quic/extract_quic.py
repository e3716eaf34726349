#!/usr/bin/env python3
"""Cuts the QUIC image streams out of a pcap of plain SPICE traffic.

Usage: extract_quic.py CAPTURE.pcap SERVER_PORT OUT_DIR [PREFIX]

Reassembles every server-to-client TCP stream from SERVER_PORT (payloads via tshark, ordered by
sequence number) and looks for SpiceQUICData: a u32 data_size followed by the stream's own
header (magic "QUIC", version 0, type 1..5, width, height, all little-endian u32). Each stream
found is written as PREFIX<n>_<type>_<w>x<h>.quic: exactly the data_size bytes the decoder
takes. Prints one line per image.
"""
import os
import struct
import subprocess
import sys
from collections import defaultdict

TYPES = {1: "gray", 2: "rgb16", 3: "rgb24", 4: "rgb32", 5: "rgba"}


def server_streams(pcap, port):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", f"tcp.srcport=={port} && tcp.len>0", "-T", "fields",
         "-e", "tcp.stream", "-e", "tcp.seq", "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    segs = defaultdict(dict)
    for line in out.splitlines():
        stream, seq, payload = line.split("\t")
        segs[int(stream)].setdefault(int(seq), bytes.fromhex(payload))
    for stream in sorted(segs):
        data = bytearray()
        for seq in sorted(segs[stream]):
            data += segs[stream][seq]
        yield stream, bytes(data)


def main():
    pcap, port, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    prefix = sys.argv[4] if len(sys.argv) > 4 else ""
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for stream, data in server_streams(pcap, port):
        at = data.find(b"QUIC")
        while at >= 4:
            size = struct.unpack_from("<I", data, at - 4)[0]
            if at + 20 <= len(data):
                _, version, kind, w, h = struct.unpack_from("<5I", data, at)
                if (version == 0 and kind in TYPES and 0 < w <= 16384 and 0 < h <= 16384
                        and 20 <= size and at + size <= len(data)):
                    name = f"{prefix}{n:02d}_{TYPES[kind]}_{w}x{h}.quic"
                    with open(os.path.join(out_dir, name), "wb") as f:
                        f.write(data[at:at + size])
                    print(f"{name}\tstream {stream}\toffset {at}\t{size} bytes")
                    n += 1
            at = data.find(b"QUIC", at + 4)


if __name__ == "__main__":
    main()
