#!/usr/bin/env python3
"""dnsq SERVER NAME [--tcp] [--port N] [--type A|AAAA] [--same-question]: one
DNS query, as a guest would send it. Prints the rcode, then each A address of
the answer; exit 0 when an answer came (whatever its rcode), 1 on no answer in
2 s (or, with --same-question, when the answer's question is not the query's
byte for byte, letter case included, as a stub resolver that randomises the
case checks it)."""
import random, socket, struct, sys

args = sys.argv[1:]
server, name = args[0], args[1]
tcp = "--tcp" in args
port = int(args[args.index("--port") + 1]) if "--port" in args else 53
qtype = {"A": 1, "AAAA": 28}[args[args.index("--type") + 1] if "--type" in args else "A"]
qid = random.randrange(65536)
q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", qtype, 1)
try:
    if tcp:
        s = socket.create_connection((server, port), timeout=2)
        s.sendall(struct.pack(">H", len(q)) + q)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
            chunk = s.recv(4096)
            if not chunk:
                sys.exit(1)
            data += chunk
        r = data[2:]
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(q, (server, port))
        r = s.recv(4096)
except OSError:
    sys.exit(1)
rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
if rid != qid:
    sys.exit(1)
if "--same-question" in args and r[12:len(q)] != q[12:]:
    print("the question differs:", r[12:len(q)], file=sys.stderr)
    sys.exit(1)
print("rcode", flags & 0xF)
# skip the question, then read the answers
i = 12
for _ in range(qd):
    while r[i]:
        i += r[i] + 1
    i += 5
for _ in range(an):
    if r[i] & 0xC0 == 0xC0:
        i += 2
    else:
        while r[i]:
            i += r[i] + 1
        i += 1
    t, c, ttl, ln = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if t == 1 and ln == 4:
        print("A", ".".join(str(b) for b in r[i:i + 4]), ttl)
    i += ln
