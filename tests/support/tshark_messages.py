#!/usr/bin/env python3
"""tshark_messages.py CAPTURE SERVER_PORT

Runs tshark's SPICE dissector over CAPTURE and prints one JSON object per SPICE message it
dissected, in capture order:

  {"client_port": 40120, "dir": "s2c", "type": 304, "size": 9131,
   "fields": {"spice.surface_id": ["0"], "spice.image_type": ["102"], ...}}

`fields` holds every named spice.* field tshark put under that message, in tree order, with
its "show" value. The tests compare these key fields with ours (tests/cli/tshark_fields_test.cpp).
Only the message tree is used: tshark's per-frame field lists (-T fields) cannot say which
message of a frame a value belongs to.
"""
import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET


def named_fields(node, out):
    for child in node:
        if child.tag != "field":
            continue
        name = child.get("name", "")
        if name.startswith("spice.") and name not in ("spice.message_header",):
            show = child.get("show", "")
            # Raw payload dumps are of no use to the comparison and can be megabytes.
            out.setdefault(name, []).append(show if len(show) <= 80 else show[:80] + "...")
        named_fields(child, out)


def header_values(header):
    mtype = size = None
    for f in header.iter("field"):
        if f.get("name") == "spice.message_type":
            mtype = int(f.get("show"))
        elif f.get("name") == "spice.message_size":
            size = int(f.get("show"))
    return None if mtype is None or size is None else (mtype, size)


def messages(proto):
    """(type, size, fields) per message of one spice proto tree. Server messages come wrapped
    in one subtree each; client messages as a bare header followed by sibling body fields."""
    current = None
    for child in proto.findall("field"):
        if child.get("name") == "spice.message_header":
            if current:
                yield current
            values = header_values(child)
            current = (values[0], values[1], {}) if values else None
            continue
        inner = None
        for f in child.iter("field"):
            if f.get("name") == "spice.message_header":
                inner = f
                break
        if inner is not None:
            if current:
                yield current
                current = None
            values = header_values(inner)
            if values:
                fields = {}
                named_fields(child, fields)
                yield (values[0], values[1], fields)
        elif current is not None:
            fields = current[2]
            name = child.get("name", "")
            if name.startswith("spice."):
                fields.setdefault(name, []).append(child.get("show", ""))
            named_fields(child, fields)
    if current:
        yield current


def main():
    capture, server_port = sys.argv[1], int(sys.argv[2])
    # Out-of-order reassembly on, as in tests/support/process.h: a segment tcpdump took late
    # would otherwise be called a retransmission and its messages never dissected.
    proc = subprocess.Popen(
        ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", capture,
         "-d", f"tcp.port=={server_port},spice", "-T", "pdml"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = sys.stdout
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    for _, elem in ET.iterparse(proc.stdout, events=("end",)):
        if elem.tag != "packet":
            continue
        src = dst = None
        for proto in elem.findall("proto"):
            if proto.get("name") == "tcp":
                for f in proto.iter("field"):
                    if f.get("name") == "tcp.srcport":
                        src = int(f.get("show"))
                    elif f.get("name") == "tcp.dstport":
                        dst = int(f.get("show"))
        if src is None or dst is None:
            elem.clear()
            continue
        c2s = dst == server_port
        client_port = src if c2s else dst
        for proto in elem.findall("proto"):
            if proto.get("name") != "spice":
                continue
            for mtype, size, fields in messages(proto):
                for k in ("spice.message_type", "spice.message_size"):
                    fields.pop(k, None)
                json.dump({"client_port": client_port, "dir": "c2s" if c2s else "s2c",
                           "type": mtype, "size": size, "fields": fields}, out,
                          separators=(",", ":"))
                out.write("\n")
        elem.clear()
    proc.wait()
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
