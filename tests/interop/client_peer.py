"""One official-client (lonelypsc) peer for the TypeScript client's interop suite.

Usage:
  python client_peer.py sub  --transport ws|http --url URL --secrets FILE --topic T [--port N]
      subscribes (exact), prints READY, then prints the hex of the first message received and exits
  python client_peer.py pub  --transport ws|http --url URL --secrets FILE --topic T --data-hex H
      notifies once and prints the subscriber count

Only 127.0.0.1 is contacted. Uses the peers of ws_peers.py.
"""

import argparse
import asyncio
import sys

from ws_peers import HttpPeer, WsPeer


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["sub", "pub"])
    p.add_argument("--transport", choices=["ws", "http"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--secrets", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--data-hex", default="")
    args = p.parse_args()
    topic = args.topic.encode()
    if args.transport == "ws":
        peer = WsPeer("lonelypsc", args.url, args.secrets)
    else:
        peer = HttpPeer("lonelypsc", args.port, args.url, args.secrets)
    await peer.start()
    try:
        if args.role == "pub":
            print(await peer.notify(topic, bytes.fromhex(args.data_hex), None), flush=True)
            return 0
        await peer.subscribe_exact(topic)
        if args.transport == "ws":
            await peer.synced("subscribing")
        print("READY", flush=True)
        got_topic, _sha, data = await peer.collector.next("the TypeScript client's message")
        if got_topic != topic:
            print(f"wrong topic {got_topic!r}", file=sys.stderr)
            return 1
        print(data.hex(), flush=True)
        return 0
    finally:
        await peer.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
