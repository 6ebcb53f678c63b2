package ofproto

import (
	"testing"

	"github.com/govs/govs/ofproto/ofp"
)

// bundleAdd wraps m in a BUNDLE_ADD for bundle id, with the same xid as the
// inner message (as ovs-ofctl sends it).
func (c *ofClient) bundleAdd(id uint32, m ofp.Message) uint32 {
	c.t.Helper()
	c.xid++
	inner, err := ofp.Marshal(c.xid, m)
	if err != nil {
		c.t.Fatal(err)
	}
	b, err := ofp.Marshal(c.xid, &ofp.BundleAdd{BundleID: id, Flags: ofp.BundleFlagAtomic, Message: inner})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
	return c.xid
}

func (c *ofClient) bundleCtrl(id uint32, t uint16) ofp.Message {
	c.t.Helper()
	return c.request(&ofp.BundleCtrl{BundleID: id, CtrlType: t, Flags: ofp.BundleFlagAtomic})
}

func (c *ofClient) flowCount() int {
	c.t.Helper()
	mp := c.request(&ofp.MultipartRequest{Body: &ofp.FlowStatsRequest{TableID: ofp.TableAll,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny}}).(*ofp.MultipartReply)
	return len(mp.Body.(*ofp.FlowStatsReply).Stats)
}

func TestBundleCommit(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure)
	c := tb.dial(t)
	if r, ok := c.bundleCtrl(7, ofp.BundleOpenRequest).(*ofp.BundleCtrl); !ok || r.CtrlType != ofp.BundleOpenReply || r.BundleID != 7 {
		t.Fatalf("open reply %+v", r)
	}
	c.bundleAdd(7, flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2)))
	c.bundleAdd(7, flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 2)}, output(1)))
	pkt := udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2)
	c.bundleAdd(7, &ofp.PacketOut{BufferID: ofp.NoBuffer, InPort: ofp.PortController, Actions: []ofp.Action{output(3)}, Data: pkt})
	c.barrier()
	if n := c.flowCount(); n != 0 {
		t.Fatalf("%d flows before the commit, want 0", n)
	}
	tb.expectNoFrame(t, 2) // the packet-out waits for the commit too
	if r := c.bundleCtrl(7, ofp.BundleCommitRequest).(*ofp.BundleCtrl); r.CtrlType != ofp.BundleCommitReply {
		t.Fatalf("commit reply %+v", r)
	}
	if n := c.flowCount(); n != 2 {
		t.Fatalf("%d flows after the commit, want 2", n)
	}
	tb.expectFrame(t, 2)
	tb.hosts[0].SendFrame(pkt)
	tb.expectFrame(t, 1)
	// The bundle is gone after its commit.
	c.expectBundleError(&ofp.BundleCtrl{BundleID: 7, CtrlType: ofp.BundleCommitRequest}, ofp.BFCBadID)
}

// TestBundleRollback: a failing message undoes the whole bundle: the flow
// it added, the flow it deleted, the flow it modified.
func TestBundleRollback(t *testing.T) {
	tb := newTestBridge(t, 3, FailSecure, func(c *Config) {})
	c := tb.dial(t)
	c.send(&ofp.SetConfig{MissSendLen: 128})
	keep := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 1)}, output(2))
	keep.Flags = ofp.FlagSendFlowRem
	c.send(keep)
	c.send(flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 2)}, output(1)))
	c.barrier()

	c.bundleCtrl(1, ofp.BundleOpenRequest)
	c.bundleAdd(1, flow(0, 20, []ofp.OXM{oxm(ofp.OXMInPort, 3)}, output(1)))
	del := &ofp.FlowMod{TableID: 0, Command: ofp.FlowDeleteStrict, Priority: 10, BufferID: ofp.NoBuffer,
		OutPort: ofp.PortAny, OutGroup: ofp.GroupAny, Match: ofp.Match{Fields: []ofp.OXM{oxm(ofp.OXMInPort, 1)}}}
	c.bundleAdd(1, del)
	mod := flow(0, 10, []ofp.OXM{oxm(ofp.OXMInPort, 2)}, output(3))
	mod.Command = ofp.FlowModifyStrict
	c.bundleAdd(1, mod)
	badXid := c.bundleAdd(1, flow(0, 1, []ofp.OXM{oxm(ofp.OXMTCPDst, 80)}, output(2))) // bad prerequisite
	c.bundleAdd(1, flow(0, 30, nil, output(3)))
	commitXid := c.send(&ofp.BundleCtrl{BundleID: 1, CtrlType: ofp.BundleCommitRequest, Flags: ofp.BundleFlagAtomic})
	var gotInner, gotCommit bool
	for !gotCommit {
		h, m := c.recv()
		switch e, _ := m.(*ofp.ErrorMsg); {
		case m.Type() == ofp.TypeFlowRemoved:
			t.Fatal("FLOW_REMOVED sent for a rolled back delete")
		case e != nil && h.Xid == badXid:
			if e.ErrType != ofp.ETBadMatch || e.Code != ofp.BMCBadPrereq {
				t.Errorf("inner error type %d code %d", e.ErrType, e.Code)
			}
			gotInner = true
		case e != nil && h.Xid == commitXid:
			if e.ErrType != ofp.ETExperimenter || e.Code != ofp.BFCMsgFailed || e.Experimenter != ofp.ONFExperimenter {
				t.Errorf("commit error %+v", e)
			}
			gotCommit = true
		}
	}
	if !gotInner {
		t.Error("no error for the failing message")
	}
	if n := c.flowCount(); n != 2 {
		t.Fatalf("%d flows after the failed commit, want the 2 from before", n)
	}
	tb.hosts[0].SendFrame(udpPacket(t, macH1, macH2, "198.18.0.1", "198.18.0.2", 1, 2))
	tb.expectFrame(t, 1) // the deleted flow is back
	tb.hosts[1].SendFrame(udpPacket(t, macH2, macH1, "198.18.0.2", "198.18.0.1", 2, 1))
	tb.expectFrame(t, 0) // the modification is undone
	tb.expectNoFrame(t, 2)
}

func TestBundleErrors(t *testing.T) {
	tb := newTestBridge(t, 1, FailSecure)
	c := tb.dial(t)
	c.bundleCtrl(3, ofp.BundleOpenRequest)
	c.expectBundleError(&ofp.BundleCtrl{BundleID: 3, CtrlType: ofp.BundleOpenRequest}, ofp.BFCBundleExist)
	c.expectBundleError(&ofp.BundleCtrl{BundleID: 4, CtrlType: ofp.BundleCloseRequest}, ofp.BFCBadID)
	c.expectBundleError(&ofp.BundleCtrl{BundleID: 3, CtrlType: 99}, ofp.BFCBadType)
	c.expectBundleError(&ofp.BundleCtrl{BundleID: 3, CtrlType: ofp.BundleOpenRequest, Flags: 0x80}, ofp.BFCBadFlags)
	c.bundleCtrl(3, ofp.BundleCloseRequest)
	// Adding to a closed bundle fails.
	xid := c.bundleAdd(3, flow(0, 1, nil, output(1)))
	bx := c.send(&ofp.BarrierRequest{})
	for {
		h, m := c.recv()
		if h.Xid == xid {
			if e, ok := m.(*ofp.ErrorMsg); !ok || e.Code != ofp.BFCBundleClosed {
				t.Fatalf("add to a closed bundle: %+v", m)
			}
		}
		if h.Xid == bx {
			break
		}
	}
	c.bundleCtrl(3, ofp.BundleDiscardRequest)
	// Messages that cannot be bundled are refused.
	xid = c.bundleAdd(5, &ofp.EchoRequest{})
	for {
		h, m := c.recv()
		if h.Xid == xid {
			if e, ok := m.(*ofp.ErrorMsg); !ok || e.Code != ofp.BFCMsgUnsup {
				t.Fatalf("bundling an echo request: %+v", m)
			}
			break
		}
	}
}

// expectBundleError sends m and expects an ONF bundle error with code.
func (c *ofClient) expectBundleError(m ofp.Message, code uint16) {
	c.t.Helper()
	xid := c.send(m)
	for {
		h, r := c.recv()
		if h.Xid != xid {
			continue
		}
		e, ok := r.(*ofp.ErrorMsg)
		if !ok || e.ErrType != ofp.ETExperimenter || e.Code != code || e.Experimenter != ofp.ONFExperimenter {
			c.t.Fatalf("reply %+v, want bundle error %d", r, code)
		}
		return
	}
}

func TestTableMod(t *testing.T) {
	tb := newTestBridge(t, 1, FailSecure)
	c := tb.dial(t)
	c.send(&ofp.TableMod{TableID: 3, Config: 0})
	c.send(&ofp.TableMod{TableID: ofp.TableAll, Config: 3}) // the deprecated table-miss bits
	c.barrier()
	c.expectError(&ofp.TableMod{TableID: 254}, ofp.ETTableModFailed, ofp.TMFCBadTable)
	c.expectError(&ofp.TableMod{TableID: 0, Config: 4}, ofp.ETTableModFailed, ofp.TMFCBadConfig)
}
