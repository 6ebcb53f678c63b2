#!/bin/bash
# megaflows.sh - megaflow generality of govs against Open vSwitch (issue 4).
#
# Run by hand, as root, from the repository:   e2e/megaflows.sh [N] [SEED]
#
# The same three OpenFlow tables go into Open vSwitch (ovs-vswitchd 3.x,
# userspace datapath: datapath_type=netdev, default settings) and into
# govsd, one after the other, on the same namespace topology; the same N
# (default 3000) frames with distinct IPv4 5-tuples are sent through each;
# then each switch's megaflows are dumped (`ovs-appctl dpctl/dump-flows`)
# and counted. The goal of issue 4: govs installs no more megaflows than
# Open vSwitch.
#
#   table 0, MAC table: the router's MAC goes to table 1; each host's MAC
#            to its port (exact eth_dst, as a learning controller installs);
#            anything else is dropped.
#   table 1, IPv4 routing: longest prefix match by priority over /8../32
#            prefixes (rewrites the MACs, decrements the TTL, writes the
#            output port); no route: drop.
#   table 2, ACL on L4 ports: denies (clear_actions) some TCP and UDP
#            destination ports and one UDP source port (OpenFlow 1.3
#            cannot mask L4 ports); the rest is allowed (the action set
#            outputs).
#
# Topology (namespaces created and removed here, nothing else touched):
#   mf-h1 eth0 == mfp1 [mf-sw] mfp2 == eth0 mf-h2,  mfp3 == eth0 mf-h3
# Frames are written from mf-h1 with an AF_PACKET socket (python3).
#
# Prints both counts (and the IPv4 ones) and exits 1 when govs installs
# more megaflows than Open vSwitch. Needs: iproute2, python3, go,
# openvswitch-switch (ovs-vswitchd, ovsdb-server, ovs-vsctl), and
# openvswitch-common (ovs-ofctl, ovs-appctl).
set -euo pipefail

N=${1:-3000}
SEED=${2:-1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TMP=$(mktemp -d /tmp/govs-megaflows.XXXXXX)
NS_SW=mf-sw
HOSTS=(mf-h1 mf-h2 mf-h3)
ROUTER_MAC=02:00:00:00:00:fe
HOST_MACS=(02:00:00:00:01:01 02:00:00:00:01:02 02:00:00:00:01:03)
PIDS=()

for c in ip python3 go ovs-vswitchd ovsdb-server ovsdb-tool ovs-vsctl ovs-ofctl ovs-appctl; do
	command -v "$c" >/dev/null || { echo "megaflows.sh: needs $c" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "megaflows.sh: needs root (network namespaces)" >&2; exit 2; }

cleanup() {
	stop_all
	for n in "$NS_SW" "${HOSTS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# stop_all: TERM the process groups we started, KILL what is left.
stop_all() {
	local p i alive
	for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
	for i in $(seq 50); do
		alive=0
		for p in "${PIDS[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}

topo_up() {
	local i n
	ip netns add "$NS_SW"
	ip -n "$NS_SW" link set lo up
	for i in 0 1 2; do
		n=${HOSTS[$i]}
		ip netns add "$n"
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$n" link add eth0 address "${HOST_MACS[$i]}" type veth peer name "mfp$((i + 1))" netns "$NS_SW"
		ip -n "$n" link set eth0 up
		ip -n "$NS_SW" link set "mfp$((i + 1))" up
	done
	ip netns exec "$NS_SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# The OpenFlow tables, in ovs-ofctl syntax.
write_flows() {
	local f=$TMP/flows.txt
	{
		echo "table=0,priority=100,dl_dst=$ROUTER_MAC,actions=goto_table:1"
		for i in 0 1 2; do
			echo "table=0,priority=50,dl_dst=${HOST_MACS[$i]},actions=output:$((i + 1))"
		done
		echo "table=0,priority=0,actions=drop"
		# prefix port
		local routes=(
			"10.0.0.0/8 2" "10.1.0.0/16 3" "10.1.2.0/24 2" "10.1.2.128/25 3" "10.1.2.200/32 2"
			"10.2.0.0/15 3" "10.200.0.0/13 2" "172.16.0.0/12 3" "172.16.5.0/24 2" "192.168.0.0/16 2"
			"192.168.10.0/24 3" "192.168.10.64/26 2" "198.51.100.0/24 3" "203.0.113.0/28 2" "203.0.113.7/32 3"
		)
		local r p len port
		for r in "${routes[@]}"; do
			read -r p port <<<"$r"
			len=${p#*/}
			echo "table=1,priority=$len,ip,nw_dst=$p,actions=set_field:$ROUTER_MAC->eth_src,set_field:${HOST_MACS[$((port - 1))]}->eth_dst,dec_ttl,write_actions(output:$port),goto_table:2"
		done
		echo "table=1,priority=0,actions=drop"
		echo "table=2,priority=100,tcp,tp_dst=22,actions=clear_actions"
		echo "table=2,priority=100,tcp,tp_dst=23,actions=clear_actions"
		echo "table=2,priority=100,udp,tp_dst=161,actions=clear_actions"
		echo "table=2,priority=90,tcp,tp_dst=8080,actions=clear_actions"
		echo "table=2,priority=80,udp,tp_src=53,actions=clear_actions"
		echo "table=2,priority=0,actions=goto_table:3"
	} >"$f"
	echo "$f"
}

# send_traffic: N frames with distinct 5-tuples from mf-h1 to the router.
send_traffic() {
	ip netns exec mf-h1 python3 - "$N" "$SEED" "$ROUTER_MAC" "${HOST_MACS[0]}" <<'EOF'
import random, socket, struct, sys, time
n, seed = int(sys.argv[1]), int(sys.argv[2])
dst = bytes.fromhex(sys.argv[3].replace(':', ''))
src = bytes.fromhex(sys.argv[4].replace(':', ''))
rnd = random.Random(seed)
def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
nets = [('10.0.0.0', 8), ('10.1.0.0', 16), ('10.1.2.0', 24), ('10.1.2.128', 25), ('10.1.2.200', 32),
        ('10.2.0.0', 15), ('10.200.0.0', 13), ('172.16.0.0', 12), ('172.16.5.0', 24), ('192.168.0.0', 16),
        ('192.168.10.0', 24), ('192.168.10.64', 26), ('198.51.100.0', 24), ('203.0.113.0', 28),
        ('203.0.113.7', 32), ('0.0.0.0', 0)]  # the last: anywhere (mostly no route)
ports = [22, 23, 53, 80, 161, 443, 8080, 8088, 8443]
def ip2int(a):
    return struct.unpack('!I', socket.inet_aton(a))[0]
seen = set()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
while len(seen) < n:
    net, plen = rnd.choice(nets)
    host = rnd.getrandbits(32 - plen) if plen < 32 else 0
    daddr = ip2int(net) | host
    saddr = (198 << 24) | (18 << 16) | rnd.getrandbits(16)
    proto = rnd.choice([6, 17])
    sport = rnd.randrange(1024, 65536) if rnd.random() < 0.9 else rnd.randrange(1, 1024)
    dport = rnd.choice(ports) if rnd.random() < 0.6 else rnd.randrange(1, 65536)
    t = (saddr, daddr, proto, sport, dport)
    if t in seen:
        continue
    seen.add(t)
    if proto == 6:
        l4 = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 8192, 0, 0)
    else:
        l4 = struct.pack('!HHHH', sport, dport, 8 + 18, 0)
    payload = b'govs-megaflows....'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4) + len(payload), 1, 0x4000, 64, proto, 0,
                     struct.pack('!I', saddr), struct.pack('!I', daddr))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.send(dst + src + b'\x08\x00' + ip + l4 + payload)
    if len(seen) % 20 == 0:
        time.sleep(0.01)  # about 2000 frames a second: no upcall is lost
EOF
}

# count DUMPFILE [PATTERN]: the megaflows in a dump (matching PATTERN).
count() {
	grep 'actions:' "$1" | grep -c -- "${2:-}" || true
}

run_ovs() {
	local d=$TMP/ovs i
	mkdir -p "$d"
	ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	setsid env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovsdb-server "$d/conf.db" \
		--remote="punix:$d/db.sock" --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
		-vconsole:off --no-chdir >"$d/ovsdb-server.out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 100); do [ -S "$d/db.sock" ] && break; sleep 0.05; done
	local vsctl="ovs-vsctl --db=unix:$d/db.sock --timeout=20"
	$vsctl --no-wait init
	setsid ip netns exec "$NS_SW" env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovs-vswitchd \
		"unix:$d/db.sock" --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" \
		-vconsole:off --no-chdir >"$d/ovs-vswitchd.out" 2>&1 &
	PIDS+=($!)
	$vsctl -- add-br br0 -- set bridge br0 datapath_type=netdev fail_mode=secure \
		protocols=OpenFlow13 \
		-- add-port br0 mfp1 -- set Interface mfp1 ofport_request=1 \
		-- add-port br0 mfp2 -- set Interface mfp2 ofport_request=2 \
		-- add-port br0 mfp3 -- set Interface mfp3 ofport_request=3
	for i in $(seq 100); do [ -S "$d/br0.mgmt" ] && break; sleep 0.05; done
	local m="unix:$d/br0.mgmt"
	ovs-ofctl -O OpenFlow13 del-flows "$m"
	ovs-ofctl -O OpenFlow13 add-flows "$m" "$FLOWS"
	ovs-appctl -t "$d/ovs-vswitchd.ctl" dpctl/del-flows >/dev/null 2>&1 || true
	send_traffic
	sleep 0.5
	ovs-appctl -t "$d/ovs-vswitchd.ctl" dpctl/dump-flows >"$TMP/ovs.flows"
	ovs-appctl -t "$d/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || true
	ovs-appctl -t "$d/ovsdb-server.ctl" exit >/dev/null 2>&1 || true
	stop_all
}

run_govs() {
	local d=$TMP/govs i
	mkdir -p "$d/run"
	go build -o "$TMP/govsd" "$ROOT/cmd/govsd"
	cat >"$d/config.toml" <<EOF
rundir = "$d/run"
[log]
level = "warn"
[[bridge]]
name = "br0"
datapath_id = "00000000000000f1"
fail_mode = "secure"
controllers = []
listen = []
[[bridge.port]]
name = "mfp1"
ofport = 1
[[bridge.port]]
name = "mfp2"
ofport = 2
[[bridge.port]]
name = "mfp3"
ofport = 3
EOF
	setsid ip netns exec "$NS_SW" "$TMP/govsd" -config "$d/config.toml" >"$d/govsd.log" 2>&1 &
	PIDS+=($!)
	for i in $(seq 200); do [ -S "$d/run/br0.mgmt" ] && break; sleep 0.05; done
	local m="unix:$d/run/br0.mgmt"
	ovs-ofctl -O OpenFlow13 del-flows "$m"
	ovs-ofctl -O OpenFlow13 add-flows "$m" "$FLOWS"
	ovs-appctl -t "$d/run/govsd.ctl" dpctl/del-flows >/dev/null 2>&1 || true
	send_traffic
	sleep 0.5
	ovs-appctl -t "$d/run/govsd.ctl" dpctl/dump-flows >"$TMP/govs.flows"
	stop_all
}

topo_up
FLOWS=$(write_flows)
echo "megaflows.sh: $N distinct IPv4 5-tuples (seed $SEED) through 3 tables ($(wc -l <"$FLOWS") rules)"
run_ovs
run_govs
ovs_n=$(count "$TMP/ovs.flows")
govs_n=$(count "$TMP/govs.flows")
printf '%-14s %6d megaflows (%d IPv4)\n' "Open vSwitch:" "$ovs_n" "$(count "$TMP/ovs.flows" 'eth_type(0x0800)')"
printf '%-14s %6d megaflows (%d IPv4)\n' "govs:" "$govs_n" "$(count "$TMP/govs.flows" 'eth_type(0x0800)')"
if [ -n "${KEEP_DUMPS:-}" ]; then
	cp "$TMP/ovs.flows" "$KEEP_DUMPS.ovs"
	cp "$TMP/govs.flows" "$KEEP_DUMPS.govs"
fi
if [ "$govs_n" -gt "$ovs_n" ]; then
	echo "megaflows.sh: govs installs more megaflows than Open vSwitch ($govs_n > $ovs_n)"
	exit 1
fi
echo "megaflows.sh: ok, govs installs no more megaflows than Open vSwitch ($govs_n <= $ovs_n)"
