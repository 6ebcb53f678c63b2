#!/usr/bin/env bash
# portpoll.sh OUTFILE: while run-ryu-tests.sh runs govs as the target, record
# every 2 s the target's port packet counters and meter counters (through the
# bridge's management socket) as one line: time, per port rx/tx packets, and
# the meter's packet_in_count and per-band packet_count. throughput_report.py
# turns this into what the tester's sender delivered and what govs forwarded.
set -u
out=$1
while true; do
    s=$(ls -td /tmp/ryu-conf.*/target/govs/run/dut.mgmt 2>/dev/null | head -1)
    if [ -n "$s" ]; then
        r=$(timeout 5 ovs-ofctl -O OpenFlow13 dump-ports "unix:$s" 2>&1 | grep -oE 'port +[0-9]+:|pkts=[0-9]+' | tr '\n' ' ')
        m=$(timeout 5 ovs-ofctl -O OpenFlow13 meter-stats "unix:$s" 2>&1 | grep -oE 'packet_in_count:[0-9]+|[0-9]+: *packet_count:[0-9]+' | tr '\n' ' ')
        echo "$(date +%H:%M:%S.%N | cut -c1-12) $r | $m" >>"$out"
    fi
    sleep 2
done
