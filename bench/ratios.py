#!/usr/bin/env python3
"""Ratios of govs to its peers from one run of ../shared/perf/peers.sh.

usage: ratios.py RESULTS/raw.tsv [GOVS_PEER]

Reads the raw figures of one run (round, peer, metric, value), takes the
median over rounds of each peer's metric, and prints govs (peer GOVS_PEER,
default govs-flows) against Open vSwitch (ovs-flows; ovs-flows-tso for TCP
with offloads on) and the AF_PACKET null forwarder (nullfwd), with the
targets of issue 5. Only figures of the same run are compared.
"""
import statistics
import sys
from collections import defaultdict


def load(path):
    data = defaultdict(lambda: defaultdict(list))
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 4:
            continue
        try:
            data[parts[1]][parts[2]].append(float(parts[3]))
        except ValueError:
            pass
    return data


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    data = load(argv[1])
    govs = argv[2] if len(argv) > 2 else "govs-flows"

    def med(peer, metric):
        v = data.get(peer, {}).get(metric)
        return statistics.median(v) if v else None

    # (what, metric, govs peer, other peer, target ratio, higher is better, format)
    rows = [
        ("UDP64 fwd pps", "udp_fwd_pps", "ovs-flows", 2.0, True, "%.0f"),
        ("UDP64 fwd pps", "udp_fwd_pps", "nullfwd", 0.9, True, "%.0f"),
        ("switch ns/pkt", "sw_ns_per_pkt", "ovs-flows", 0.5, False, "%.0f"),
        ("switch ns/pkt", "sw_ns_per_pkt", "nullfwd", None, False, "%.0f"),
        ("ping rtt us", "rtt_avg_us", "ovs-flows", 1.0, False, "%.0f"),
        ("ping rtt us", "rtt_avg_us", "nullfwd", None, False, "%.0f"),
        ("TCP Gbit/s (offloads off)", "tcp_gbps", "ovs-flows", None, True, "%.2f"),
        ("TCP Gbit/s (offloads on)", "tcp_offl_gbps", "ovs-flows-tso", 1.0, True, "%.2f"),
        ("TCP Gbit/s (offloads on)", "tcp_offl_gbps", "nullfwd", None, True, "%.2f"),
        ("flow setup: flows/s first 0.2s", "fs_burst_flows_per_s", "ovs-flows", 3.0, True, "%.0f"),
        # govs installs each of the test's flows once, so its installs/s is
        # capped at NFLOWS over the run; Open vSwitch's count includes the
        # flows it installs again after its flow limit evicted them.
        ("flow setup: installs/s (with re-installs)", "fs_installs_per_s", "ovs-flows", None, True, "%.0f"),
        ("flow setup: net new flows/s best 1s", "fs_flows_per_s_best1s", "ovs-flows", None, True, "%.0f"),
        ("flow setup: failed upcalls", "fs_upcalls_failed", "ovs-flows", None, False, "%.0f"),
        ("flow setup: loss %", "fs_loss_pct", "ovs-flows", 1.0, False, "%.1f"),
    ]
    print("govs (%s) against its peers, medians over rounds of one run:" % govs)
    print("  %-42s %12s %-14s %12s %8s  %s" % ("metric", "govs", "vs", "peer", "ratio", "target"))
    for what, metric, other, target, higher, fmt in rows:
        g, o = med(govs, metric), med(other, metric)
        if g is None or o is None:
            continue
        ratio = "%.2fx" % (g / o) if o else ("inf" if g else "-")
        t = ""
        if target is not None:
            if metric == "fs_loss_pct":
                ok = g < o
                t = "lower than peer: %s" % ("met" if ok else "NOT met")
            elif o == 0:
                ok = higher and g > 0
                t = "%s %.1fx: %s" % (">=" if higher else "<=", target, "met" if ok else "NOT met")
            else:
                ok = g / o >= target if higher else g / o <= target
                t = "%s %.1fx: %s" % (">=" if higher else "<=", target, "met" if ok else "NOT met")
        print("  %-42s %12s %-14s %12s %8s  %s" % (what, fmt % g, other, fmt % o, ratio, t))


if __name__ == "__main__":
    main(sys.argv)
