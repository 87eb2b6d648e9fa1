#!/usr/bin/env python3
"""A stand-in queue worker: reports its environment, then waits for work.

On SIGTERM it finishes the job in hand and exits, as a worker should.
"""
import base64
import json
import os
import signal
import sys
import time

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
rels = json.loads(base64.b64decode(os.environ.get("PLATFORM_RELATIONSHIPS", "e30=")))
print(f"queue worker {os.getpid()}: TYPE={os.environ.get('TYPE')} "
      f"relationships={sorted(rels)}", flush=True)
while not stopping:
    time.sleep(1)
print("queue worker: SIGTERM received, finishing the current job", flush=True)
sys.exit(0)
