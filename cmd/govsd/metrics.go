package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/govs/govs/ofproto"
)

// metricsServer serves the Prometheus text exposition format (version
// 0.0.4) on http://ADDR/metrics: port, datapath, upcall, connection and
// table counters of every bridge, and the coverage counters.
//
// Goroutines: the HTTP server's, stopped by Close.
type metricsServer struct {
	srv  *http.Server
	done chan struct{}
}

func newMetricsServer(addr string, d *daemon) (*metricsServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		writeMetrics(bw, d.snapshot(), ofproto.CoverageTotals())
		bw.Flush()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "govsd: metrics at /metrics")
	})
	m := &metricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.WithError(err).Error("metrics server")
		}
	}()
	d.log.WithField("metrics", "http://"+l.Addr().String()+"/metrics").Info("serving metrics")
	return m, nil
}

// Close stops the server and waits for it.
func (m *metricsServer) Close() {
	m.srv.Close()
	<-m.done
}

// family is one metric family: its samples, written together after their
// HELP and TYPE lines.
type family struct {
	name, help, typ string
	samples         []string
}

type families struct {
	order []string
	m     map[string]*family
}

func (f *families) add(name, typ, help string, labels []string, v float64) {
	if f.m == nil {
		f.m = map[string]*family{}
	}
	fam := f.m[name]
	if fam == nil {
		fam = &family{name: name, help: help, typ: typ}
		f.m[name] = fam
		f.order = append(f.order, name)
	}
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			b.WriteString(escapeLabel(labels[i+1]))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	fam.samples = append(fam.samples, b.String())
}

func (f *families) write(w io.Writer) {
	for _, n := range f.order {
		fam := f.m[n]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", fam.name, fam.help, fam.name, fam.typ)
		for _, s := range fam.samples {
			fmt.Fprintln(w, s)
		}
	}
}

// escapeLabel escapes a label value (backslash, double quote, newline).
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeMetrics writes every metric of the bridges and the coverage
// counters.
func writeMetrics(w io.Writer, bridges []*ofproto.Bridge, coverage map[string]uint64) {
	var f families
	for _, br := range bridges {
		m := br.Metrics()
		bl := []string{"bridge", m.Name}
		f.add("govs_bridge_fail_open", "gauge", "1 while a standalone bridge acts as a learning switch because no controller is connected.", bl, b2f(m.FailOpen))
		s := m.Datapath
		f.add("govs_datapath_hit_total", "counter", "Packets that matched a megaflow.", bl, float64(s.Hit))
		f.add("govs_datapath_emc_hit_total", "counter", "Packets that the exact-match cache answered (part of hit).", bl, float64(s.EMCHit))
		f.add("govs_datapath_missed_total", "counter", "Packets that matched no megaflow.", bl, float64(s.Missed))
		f.add("govs_datapath_lost_total", "counter", "Upcalls (misses and controller actions) dropped because an upcall queue was full.", bl, float64(s.Lost))
		f.add("govs_datapath_subtable_lookups_total", "counter", "Megaflow subtables searched.", bl, float64(s.MaskHit))
		f.add("govs_datapath_flows", "gauge", "Installed megaflows.", bl, float64(s.Flows))
		f.add("govs_datapath_masks", "gauge", "Distinct megaflow masks.", bl, float64(s.Masks))
		for _, p := range m.Ports {
			pl := []string{"bridge", m.Name, "port", p.Name, "ofport", p.OFPort}
			ps := p.Stats
			f.add("govs_port_rx_packets_total", "counter", "Packets received on the port.", pl, float64(ps.RxPackets))
			f.add("govs_port_tx_packets_total", "counter", "Packets sent on the port.", pl, float64(ps.TxPackets))
			f.add("govs_port_rx_bytes_total", "counter", "Bytes received on the port.", pl, float64(ps.RxBytes))
			f.add("govs_port_tx_bytes_total", "counter", "Bytes sent on the port.", pl, float64(ps.TxBytes))
			f.add("govs_port_rx_dropped_total", "counter", "Frames the port lost on receive.", pl, float64(ps.RxDropped))
			f.add("govs_port_tx_dropped_total", "counter", "Frames the port lost on send.", pl, float64(ps.TxDropped))
			f.add("govs_port_rx_errors_total", "counter", "Frames that could not be received.", pl, float64(ps.RxErrors))
			f.add("govs_port_tx_errors_total", "counter", "Frames that could not be sent.", pl, float64(ps.TxErrors))
			f.add("govs_port_link_up", "gauge", "1 when the port's link is up.", pl, b2f(p.LinkUp))
		}
		for _, t := range m.Tables {
			tl := []string{"bridge", m.Name, "table", strconv.Itoa(int(t.ID))}
			f.add("govs_table_rules", "gauge", "OpenFlow rules in the table.", tl, float64(t.Rules))
			f.add("govs_table_lookups_total", "counter", "Packets looked up in the table.", tl, float64(t.Lookups))
			f.add("govs_table_matches_total", "counter", "Packets that matched a rule of the table.", tl, float64(t.Matches))
		}
		for _, c := range m.Conns {
			cl := []string{"bridge", m.Name, "target", c.Target, "peer", c.Peer, "kind", c.Kind}
			f.add("govs_connection_up", "gauge", "1 when the OpenFlow connection is established (handshake done).", cl, b2f(c.Connected))
			for _, st := range []string{"BACKOFF", "CONNECTING", "ACTIVE", "IDLE"} {
				f.add("govs_connection_state", "gauge", "1 for the connection's current state.",
					append(append([]string(nil), cl...), "state", st), b2f(c.State == st))
			}
			if c.Kind == "controller" {
				f.add("govs_connection_connects_total", "counter", "Connections made to the controller.", cl, float64(c.Connects))
			}
			f.add("govs_connection_rx_messages_total", "counter", "OpenFlow messages received on the current connection.", cl, float64(c.RxMessages))
			f.add("govs_connection_tx_messages_total", "counter", "OpenFlow messages sent on the current connection.", cl, float64(c.TxMessages))
			f.add("govs_connection_packet_ins_total", "counter", "Packet-ins for the connection.", cl, float64(c.PacketIns))
			f.add("govs_connection_packet_ins_sent_total", "counter", "Packet-ins let through by the rate limit.", cl, float64(c.PacketInsSent))
			f.add("govs_connection_packet_ins_rate_dropped_total", "counter", "Packet-ins dropped by the rate limit.", cl, float64(c.PacketInsRateDropped))
			f.add("govs_connection_packet_ins_queue_dropped_total", "counter", "Packet-ins dropped on a full send queue.", cl, float64(c.PacketInsQueueDropped))
			f.add("govs_connection_async_dropped_total", "counter", "Asynchronous messages dropped on a full send queue.", cl, float64(c.AsyncDropped))
		}
	}
	names := make([]string, 0, len(coverage))
	for n := range coverage {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f.add("govs_coverage_total", "counter", "Coverage counters, as ovs-appctl coverage/show prints them.", []string{"event", n}, float64(coverage[n]))
	}
	f.write(w)
}
