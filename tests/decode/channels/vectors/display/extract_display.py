#!/usr/bin/env python3
"""Pulls every display-channel message body out of a pcap of plain SPICE traffic.

Usage: extract_display.py CAPTURE.pcap SERVER_PORT OUT.records [VECTOR_DIR]

Walks each TCP connection to SERVER_PORT (payloads via tshark, ordered by sequence number,
stopping at the first segment the capture lost),
skips the link stage (link messages, auth mechanism, ticket, link result), then splits the data
messages (mini header when both peers set common cap 3, else the 18-byte header). Messages of
SPICE_MSG_LIST (8) and full-header sub-message lists are opened so INVAL_LIST sub-messages count.

OUT.records (read by the hidden Catch2 test "[.real]" in display_channel_test.cpp):
  'C' + 4 x (u32 n, n x u32)  capability words: client common, client channel, server common,
                              server channel -- starts a connection
  'M' + u8 dir (0 c2s, 1 s2c) + u16 type + u32 size + body
With VECTOR_DIR, also writes the first body of each message type there as
<dir>_<type>.bin (s2c_304.bin, c2s_101.bin, ...).
"""
import os
import struct
import subprocess
import sys
from collections import defaultdict


def tcp_streams(pcap, port):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", f"tcp.port=={port} && tcp.len>0", "-T", "fields",
         "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    segs = defaultdict(dict)
    for line in out.splitlines():
        stream, sport, seq, payload = line.split("\t")
        direction = 1 if int(sport) == port else 0
        segs[(int(stream), direction)].setdefault(int(seq), bytes.fromhex(payload))
    streams = defaultdict(dict)
    for (stream, direction), by_seq in segs.items():
        data = bytearray()
        for seq in sorted(by_seq):
            chunk = by_seq[seq]
            start = seq - 1
            if start > len(data):
                break  # a segment the capture lost: nothing after it can be framed
            if start + len(chunk) <= len(data):
                continue
            data += chunk[len(data) - start:]
        streams[stream][direction] = bytes(data)
    return streams


def caps_words(buf, base, n_common, n_channel, offset):
    at = base + offset
    words = struct.unpack_from(f"<{n_common + n_channel}I", buf, at)
    return list(words[:n_common]), list(words[n_common:])


def bit(words, b):
    return b // 32 < len(words) and (words[b // 32] >> (b % 32)) & 1


def parse_link(c2s, s2c):
    size = struct.unpack_from("<I", c2s, 12)[0]
    conn_id, ch_type, ch_id, ncc, nch, off = struct.unpack_from("<IBBIII", c2s, 16)
    cc, cch = caps_words(c2s, 16, ncc, nch, off)
    c_pos = 16 + size
    ssize = struct.unpack_from("<I", s2c, 12)[0]
    err = struct.unpack_from("<I", s2c, 16)[0]
    if err:
        return None
    sncc, snch, soff = struct.unpack_from("<III", s2c, 16 + 4 + 162)
    sc, sch = caps_words(s2c, 16, sncc, snch, soff)
    s_pos = 16 + ssize
    if bit(cc, 0) and bit(sc, 0):
        mech = struct.unpack_from("<I", c2s, c_pos)[0]
        c_pos += 4
        if mech != 1:
            return None  # SASL: not decodable here
    c_pos += 128
    s_pos += 4
    return ch_type, (cc, cch, sc, sch), c_pos, s_pos, bit(cc, 3) and bit(sc, 3)


def messages(buf, pos, mini):
    while True:
        if mini:
            if pos + 6 > len(buf):
                return
            mtype, size = struct.unpack_from("<HI", buf, pos)
            pos += 6
            sub_list = 0
        else:
            if pos + 18 > len(buf):
                return
            _, mtype, size, sub_list = struct.unpack_from("<QHII", buf, pos)
            pos += 18
        if pos + size > len(buf):
            return
        body = buf[pos:pos + size]
        pos += size
        if sub_list:
            yield from sub_messages(body, sub_list)
            # The main message's layout ends before the sub-message list.
        if mtype == 8:
            yield from sub_messages(body, 0)
        else:
            yield mtype, body


def sub_messages(body, at):
    count = struct.unpack_from("<H", body, at)[0]
    for i in range(count):
        off = struct.unpack_from("<I", body, at + 2 + 4 * i)[0]
        mtype, size = struct.unpack_from("<HI", body, off)
        yield mtype, body[off + 6:off + 6 + size]


def main():
    pcap, port, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    vec_dir = sys.argv[4] if len(sys.argv) > 4 else None
    counts = defaultdict(int)
    with open(out_path, "wb") as out:
        for stream, dirs in sorted(tcp_streams(pcap, port).items()):
            if 0 not in dirs or 1 not in dirs:
                continue
            link = parse_link(dirs[0], dirs[1])
            if not link or link[0] != 2:
                continue
            _, caps, c_pos, s_pos, mini = link
            out.write(b"C")
            for words in caps:
                out.write(struct.pack(f"<I{len(words)}I", len(words), *words))
            for direction, buf, pos in ((0, dirs[0], c_pos), (1, dirs[1], s_pos)):
                for mtype, body in messages(buf, pos, mini):
                    if mtype < 100:
                        continue
                    out.write(b"M" + struct.pack("<BHI", direction, mtype, len(body)) + body)
                    key = ("c2s", "s2c")[direction] + f"_{mtype}"
                    counts[key] += 1
                    if vec_dir and counts[key] == 1:
                        with open(os.path.join(vec_dir, key + ".bin"), "wb") as f:
                            f.write(body)
    print(" ".join(f"{k}:{v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
