"""The life cycles again on a platform running N replicas of every worker (issue 13's
"SCALE 3"), next to the one-replica figure measured before. On 2 cores equal figures are
expected: what this shows is that nothing breaks or slows down when workers compete."""

import argparse
import time

from .stack import Stack


def run(limits: dict[str, str], pdf: bytes, args: argparse.Namespace, one_replica_rate: float) -> None:
    from . import bench  # the life-cycle driver; imported here, as bench imports this module

    stack = Stack.create(limits)
    try:
        stack.start_all(replicas=args.scale_replicas)
        clients = bench.start_clients(stack.gateway_url, args.clients)
        time.sleep(1.0)  # let workspace.created reach signing before the first agreement
        bench.life_cycle(clients[0], pdf)  # warm-up, as for the one-replica run
        replicas = args.scale_replicas
        print(f"\nthe same life cycles with SCALE {replicas} (that many replicas of every worker):")
        figures = bench.life_cycle_phase(stack, clients, pdf, args)
        rate = figures["agreements_per_s"]["value"]
        print(f"  agreements/s at SCALE 1 {one_replica_rate:6.2f}, at SCALE {replicas} {rate:6.2f} "
              f"(ratio {rate / one_replica_rate:.2f}; equal is expected on 2 cores)")
    finally:
        stack.close()
