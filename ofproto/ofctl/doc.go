// Package ofctl reads and writes OpenFlow 1.3 flows, matches, actions,
// instructions, groups and meters in ovs-ofctl's syntax, to and from the
// ofp data model, and prints OpenFlow messages the way
// `ovs-ofctl -O OpenFlow13` prints them.
//
// Parsing follows ovs-ofctl 3.1 (ParseFlow gives the FLOW_MOD that
// ovs-ofctl sends for the same string, byte for byte where both accept
// it), with three differences, all stricter: a field whose OpenFlow 1.3
// prerequisite is missing is an error (ovs-ofctl drops it silently), Open
// vSwitch extension fields and actions are refused (govs speaks
// OpenFlow 1.3 only), and nw_tos with ECN bits set is refused. Errors are
// *SyntaxError values naming the column, e.g.
//
//	column 23: unknown field "dl_dsst" (did you mean dl_dst?)
//
// Printing follows ovs-ofctl's output: Open vSwitch's field names
// (dl_src, nw_src, tp_dst), the protocol shorthand (tcp, udp6, arp)
// instead of eth_type and ip_proto, and its field order.
package ofctl
