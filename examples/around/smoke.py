# Smoke test: every new instance answers /api/items with 200 before it gets any traffic.
import os, urllib.request

for address in os.environ["GANTRY_ADDRESSES"].split(","):
    with urllib.request.urlopen(f"http://{address}/api/items", timeout=5) as answer:
        print(f"{address}: {answer.status}")
