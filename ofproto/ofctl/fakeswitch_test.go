package ofctl

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// fakeSwitch is an OpenFlow 1.3 switch just good enough to drive
// ovs-ofctl in tests: it records every modification message it receives
// (and answers those it cannot decode with an error),
// answers barriers, and answers multipart requests with canned replies
// (empty ones by default). It lets the tests compare what ovs-ofctl sends
// and prints with what this package parses and prints, without root and
// without a real switch.
type fakeSwitch struct {
	t    *testing.T
	path string
	ln   net.Listener
	wg   sync.WaitGroup

	mu      sync.Mutex
	got     [][]byte                                // modification messages received
	replies map[ofp.MultipartType]ofp.MultipartBody // canned multipart replies
	errorOn map[ofp.MsgType]*ofp.Error              // answer these with an ERROR
}

func newFakeSwitch(t *testing.T) *fakeSwitch {
	t.Helper()
	fs := &fakeSwitch{t: t, path: filepath.Join(t.TempDir(), "fake.mgmt"),
		replies: map[ofp.MultipartType]ofp.MultipartBody{}, errorOn: map[ofp.MsgType]*ofp.Error{}}
	ln, err := net.Listen("unix", fs.path)
	if err != nil {
		t.Fatal(err)
	}
	fs.ln = ln
	fs.wg.Add(1)
	go fs.accept()
	t.Cleanup(func() {
		ln.Close()
		fs.wg.Wait()
	})
	return fs
}

func (fs *fakeSwitch) accept() {
	defer fs.wg.Done()
	for {
		c, err := fs.ln.Accept()
		if err != nil {
			return
		}
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			fs.serve(c)
		}()
	}
}

func (fs *fakeSwitch) send(c net.Conn, xid uint32, m ofp.Message) {
	b, err := ofp.Marshal(xid, m)
	if err != nil {
		fs.t.Errorf("fake switch: marshal %T: %v", m, err)
		return
	}
	c.Write(b)
}

func (fs *fakeSwitch) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fs.send(c, 0, &ofp.Hello{Bitmaps: []uint32{1 << ofp.Version}})
	r := bufio.NewReader(c)
	for {
		msg, err := ofp.ReadMessage(r, nil)
		if err != nil {
			return
		}
		h, m, err := ofp.Decode(msg)
		switch ofp.MsgType(msg[1]) {
		case ofp.TypeFlowMod, ofp.TypeGroupMod, ofp.TypeMeterMod, ofp.TypePacketOut, ofp.TypePortMod,
			ofp.TypeTableMod, ofp.TypeExperimenter:
			fs.record(msg)
		case ofp.TypeMultipartRequest:
			if len(msg) >= 10 {
				switch ofp.MultipartType(uint16(msg[8])<<8 | uint16(msg[9])) {
				case ofp.MPFlow, ofp.MPAggregate, ofp.MPGroup, ofp.MPGroupDesc, ofp.MPMeter, ofp.MPMeterConfig, ofp.MPPortStats:
					fs.record(msg)
				}
			}
		}
		if err != nil {
			var oe *ofp.Error
			if errors.As(err, &oe) {
				fs.send(c, h.Xid, ofp.NewErrorMsg(oe, msg))
			}
			continue
		}
		fs.mu.Lock()
		eo := fs.errorOn[h.Type]
		fs.mu.Unlock()
		if eo != nil {
			fs.send(c, h.Xid, ofp.NewErrorMsg(eo, msg))
			continue
		}
		switch m := m.(type) {
		case *ofp.Hello, *ofp.EchoReply:
		case *ofp.EchoRequest:
			fs.send(c, h.Xid, &ofp.EchoReply{Data: m.Data})
		case *ofp.BarrierRequest:
			fs.send(c, h.Xid, &ofp.BarrierReply{})
		case *ofp.FeaturesRequest:
			fs.send(c, h.Xid, &ofp.FeaturesReply{DatapathID: 0x42, NTables: 254, Capabilities: 0x4f})
		case *ofp.GetConfigRequest:
			fs.send(c, h.Xid, &ofp.GetConfigReply{MissSendLen: 128})
		case *ofp.MultipartRequest:
			typ := m.Body.MultipartType()
			fs.mu.Lock()
			body := fs.replies[typ]
			fs.mu.Unlock()
			if body == nil {
				body = emptyReply(typ)
			}
			if body == nil {
				fs.send(c, h.Xid, ofp.NewErrorMsg(ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadMultipart, ""), msg))
				continue
			}
			msgs, err := ofp.MarshalMultipartReply(h.Xid, &ofp.MultipartReply{Body: body})
			if err != nil {
				fs.t.Errorf("fake switch: %v", err)
				return
			}
			for _, b := range msgs {
				c.Write(b)
			}
		}
	}
}

func (fs *fakeSwitch) record(msg []byte) {
	fs.mu.Lock()
	fs.got = append(fs.got, append([]byte(nil), msg...))
	fs.mu.Unlock()
}

// take returns and forgets the messages received so far.
func (fs *fakeSwitch) take() [][]byte {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	g := fs.got
	fs.got = nil
	return g
}

func (fs *fakeSwitch) setReply(b ofp.MultipartBody) {
	fs.mu.Lock()
	fs.replies[b.MultipartType()] = b
	fs.mu.Unlock()
}

// emptyReply is an empty reply of multipart type typ.
func emptyReply(typ ofp.MultipartType) ofp.MultipartBody {
	switch typ {
	case ofp.MPFlow:
		return &ofp.FlowStatsReply{}
	case ofp.MPAggregate:
		return &ofp.AggregateStatsReply{}
	case ofp.MPTable:
		return &ofp.TableStatsReply{}
	case ofp.MPPortStats:
		return &ofp.PortStatsReply{}
	case ofp.MPPortDesc:
		return &ofp.PortDescReply{}
	case ofp.MPTableFeatures:
		var props []ofp.TableFeatureProp
		for _, typ := range []uint16{ofp.TFPInstructions, ofp.TFPNextTables, ofp.TFPWriteActions, ofp.TFPApplyActions,
			ofp.TFPMatch, ofp.TFPWildcards, ofp.TFPWriteSetfield, ofp.TFPApplySetfield} {
			props = append(props, ofp.TableFeatureProp{Type: typ})
		}
		return &ofp.TableFeaturesReply{Features: []ofp.TableFeatures{{TableID: 0, MaxEntries: 1000, Props: props}}}
	case ofp.MPGroupDesc:
		return &ofp.GroupDescReply{}
	case ofp.MPGroup:
		return &ofp.GroupStatsReply{}
	case ofp.MPMeterConfig:
		return &ofp.MeterConfigReply{}
	case ofp.MPMeter:
		return &ofp.MeterStatsReply{}
	case ofp.MPDesc:
		return &ofp.DescReply{}
	}
	return nil
}

// ovsOfctl runs ovs-ofctl -O OpenFlow13 CMD unix:<fake> ARGS... and
// returns its combined output and whether it succeeded.
func (fs *fakeSwitch) ovsOfctl(cmd string, args ...string) (string, bool) {
	fs.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := append([]string{"-O", "OpenFlow13", cmd, "unix:" + fs.path}, args...)
	out, err := exec.CommandContext(ctx, "ovs-ofctl", all...).CombinedOutput()
	if err != nil && ctx.Err() != nil {
		fs.t.Fatalf("ovs-ofctl %s %s: timed out", cmd, strings.Join(args, " "))
	}
	return string(out), err == nil
}

// needOvsOfctl skips the test unless ovs-ofctl is installed.
func needOvsOfctl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed (Debian openvswitch-common)")
	}
}
