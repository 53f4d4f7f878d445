"""A Zenoh client no one here wrote (Python eclipse-zenoh) looking at two
kernels of the mesh: their guests' liveliness tokens, south's Hostess menu,
and the messages of a JSON route. Connects to the endpoints given as
arguments; prints READY once it listens, SEES north once north's guest
appears, then one JSON report and exits.

usage: mesh_client.py COUNT ENDPOINT...
"""

import json
import sys
import threading
import time

import zenoh

count = int(sys.argv[1])
endpoints = sys.argv[2:]

conf = zenoh.Config()
conf.insert_json5("mode", '"peer"')
conf.insert_json5("connect/endpoints", json.dumps(endpoints))
conf.insert_json5("listen/endpoints", "[]")
conf.insert_json5("scouting/multicast/enabled", "false")
conf.insert_json5("scouting/gossip/enabled", "false")
session = zenoh.open(conf)
time.sleep(0.5)

tokens = []
for reply in session.liveliness().get("wiring/hostess/**"):
    if reply.ok is not None:
        tokens.append(str(reply.ok.key_expr))

menus = []
for reply in session.get("wiring/hostess/*/menu"):
    if reply.ok is not None:
        menus.append(
            {"key": str(reply.ok.key_expr), "menu": json.loads(reply.ok.payload.to_string())}
        )

lock = threading.Lock()
changes = []
values = []


def on_token(sample):
    with lock:
        changes.append([str(sample.kind), str(sample.key_expr)])
    if sample.kind == zenoh.SampleKind.PUT and "/north/" in str(sample.key_expr):
        print("SEES north", flush=True)


def on_value(sample):
    with lock:
        values.append(json.loads(sample.payload.to_string()))


watch = session.liveliness().declare_subscriber("wiring/hostess/**", on_token)
data = session.declare_subscriber("wiring/route/**", on_value)
print("READY", flush=True)

deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        done = len(values) >= count and any(
            kind == "SampleKind.DELETE" and "/south/" in key for kind, key in changes
        )
    if done:
        break
    time.sleep(0.05)

with lock:
    report = {"tokens": tokens, "menus": menus, "changes": changes, "values": values}
print("REPORT " + json.dumps(report), flush=True)
session.close()
