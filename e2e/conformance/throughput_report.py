#!/usr/bin/env python3
"""throughput_report.py TESTER_LOG PORTPOLL_LOG

For each throughput test (group/ and meter/) of a Ryu switch test tool run
against govs: the packet rates govs received on port 1 (what the tester's
sender delivered) and sent on ports 2 and 3, from a portpoll.sh log, over the
test's 30 s of traffic, and for meters the share of packets the (first) band
applied to (dropped or remarked). Rates come from counters polled every ~2-5 s,
so they are good to a few percent."""
import re
import sys


def secs(t):
    h, m, s = t.split(':')
    return int(h) * 3600 + int(m) * 60 + float(s)


def main(tlog, plog):
    polls = []  # (time, rx port 1, tx port 2, tx port 3, meter packets in, band 0 packets)
    for line in open(plog):
        f = line.split()
        nums = [int(x) for x in re.findall(r'pkts=(\d+)', line)]
        if len(nums) < 6:
            continue
        mi = re.search(r'packet_in_count:(\d+)', line)
        mb = re.search(r'\b0: *packet_count:(\d+)', line)
        polls.append((secs(f[0]), nums[0], nums[3], nums[5],
                      int(mi.group(1)) if mi else None, int(mb.group(1)) if mb else None))

    def first_after(t):
        return next((p for p in polls if p[0] >= t), None)

    def last_before(t):
        return next((p for p in reversed(polls) if p[0] <= t), None)

    print('%-38s %-5s %8s %8s %8s %7s  %s' % ('test', 'res', 'rx1 pps', 'tx2 pps', 'tx3 pps', 'band %', 'description'))
    cur = None
    for line in open(tlog):
        m = re.match(r'(\d\d:\d\d:\d\d) (\w+): (\S+)$', line.rstrip())
        if m:
            cur = m.group(2) + '/' + m.group(3) if m.group(2) in ('group', 'meter') else None
            continue
        m = re.match(r'(\d\d:\d\d:\d\d)\s{5}(\S.*?)\s+(OK|ERROR)$', line)
        if not (m and cur):
            continue
        end = secs(m.group(1))
        a, b = first_after(end - 29), last_before(end - 1)  # inside the 30 s of traffic
        desc, res = m.group(2)[:70], m.group(3)
        if not a or not b or b[0] - a[0] < 10:
            print('%-38s %-5s %8s %8s %8s %7s  %s' % (cur, res, '-', '-', '-', '-', desc))
            continue
        dt = b[0] - a[0]
        band = '-'
        if cur.startswith('meter') and b[4] and b[5] is not None:
            band = '%.1f' % (100.0 * b[5] / b[4])
        print('%-38s %-5s %8.0f %8.0f %8.0f %7s  %s' % (cur, res, (b[1] - a[1]) / dt, (b[2] - a[2]) / dt,
                                                      (b[3] - a[3]) / dt, band, desc))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
