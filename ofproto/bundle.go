package ofproto

import (
	"github.com/govs/govs/ofproto/ofp"
)

// The ONF bundle extension for OpenFlow 1.3 (experimenter 0x4F4E4600,
// BUNDLE_CONTROL 2300 and BUNDLE_ADD 2301), as `ovs-ofctl --bundle` uses
// it: a controller opens a bundle, adds modifications to it, and commits
// them atomically — all are applied or none, and no packet is forwarded by
// a state in between (see txn.go) — or discards them. Bundles belong to
// their connection and die with it.

// maxBundleMsgs bounds one bundle.
const maxBundleMsgs = 100000

// bundle is an open bundle. Owned by the connection's serve goroutine.
type bundle struct {
	id     uint32
	flags  uint16
	closed bool
	msgs   []bundleMsg
}

// bundleMsg is one message added to a bundle.
type bundleMsg struct {
	xid uint32
	msg ofp.Message
	raw []byte
}

// bundleErr returns an ONF bundle error.
func bundleErr(code uint16, format string, args ...any) *ofp.Error {
	e := ofp.Errorf(ofp.ETExperimenter, code, format, args...)
	e.Experimenter = ofp.ONFExperimenter
	return e
}

// bundleable reports whether a message may be added to a bundle.
func bundleable(m ofp.Message) bool {
	switch m.(type) {
	case *ofp.FlowMod, *ofp.PortMod, *ofp.TableMod, *ofp.PacketOut:
		return true
	}
	return false
}

// bundleCtrl handles an ONF BUNDLE_CONTROL message.
func (c *conn) bundleCtrl(h ofp.Header, m *ofp.BundleCtrl) error {
	reply := func(t uint16) {
		c.sendMsg(h.Xid, &ofp.BundleCtrl{BundleID: m.BundleID, CtrlType: t, Flags: m.Flags})
	}
	if m.Flags&^uint16(ofp.BundleFlagAtomic|ofp.BundleFlagOrdered) != 0 {
		return bundleErr(ofp.BFCBadFlags, "bundle flags %#x", m.Flags)
	}
	b := c.bundles[m.BundleID]
	switch m.CtrlType {
	case ofp.BundleOpenRequest:
		if b != nil {
			return bundleErr(ofp.BFCBundleExist, "bundle %d is open", m.BundleID)
		}
		c.bundles[m.BundleID] = &bundle{id: m.BundleID, flags: m.Flags}
		reply(ofp.BundleOpenReply)
	case ofp.BundleCloseRequest:
		if b == nil {
			return bundleErr(ofp.BFCBadID, "no bundle %d", m.BundleID)
		}
		if b.closed {
			return bundleErr(ofp.BFCBundleClosed, "bundle %d is closed", m.BundleID)
		}
		b.closed = true
		reply(ofp.BundleCloseReply)
	case ofp.BundleCommitRequest:
		if b == nil {
			return bundleErr(ofp.BFCBadID, "no bundle %d", m.BundleID)
		}
		delete(c.bundles, m.BundleID)
		if err := c.commit(b); err != nil {
			return err
		}
		reply(ofp.BundleCommitReply)
	case ofp.BundleDiscardRequest:
		if b == nil {
			return bundleErr(ofp.BFCBadID, "no bundle %d", m.BundleID)
		}
		delete(c.bundles, m.BundleID)
		reply(ofp.BundleDiscardReply)
	default:
		return bundleErr(ofp.BFCBadType, "bundle control type %d", m.CtrlType)
	}
	return nil
}

// bundleAdd handles an ONF BUNDLE_ADD message (raw is the whole message).
// A message added to a bundle that does not exist opens it; the message is
// checked as far as it can be before the commit.
func (c *conn) bundleAdd(h ofp.Header, m *ofp.BundleAdd, raw []byte) error {
	if m.InnerErr != nil {
		return m.InnerErr
	}
	if m.Inner == nil {
		return bundleErr(ofp.BFCMsgBadLen, "no message in bundle add")
	}
	if m.InnerXid != h.Xid {
		return bundleErr(ofp.BFCMsgBadXid, "inner xid %d differs from the bundle add's %d", m.InnerXid, h.Xid)
	}
	if !bundleable(m.Inner) {
		return bundleErr(ofp.BFCMsgUnsup, "%T cannot be bundled", m.Inner)
	}
	b := c.bundles[m.BundleID]
	if b == nil {
		b = &bundle{id: m.BundleID, flags: m.Flags}
		c.bundles[m.BundleID] = b
	}
	if b.closed {
		return bundleErr(ofp.BFCBundleClosed, "bundle %d is closed", m.BundleID)
	}
	if len(b.msgs) >= maxBundleMsgs {
		return bundleErr(ofp.BFCMsgTooMany, "bundle %d has %d messages", m.BundleID, len(b.msgs))
	}
	b.msgs = append(b.msgs, bundleMsg{xid: m.InnerXid, msg: m.Inner, raw: m.Message})
	return nil
}

// commit applies a bundle's messages atomically. When one fails, the ones
// before it are undone, the failing message gets its error (with its own
// xid) and the commit fails with BFC_MSG_FAILED.
func (c *conn) commit(b *bundle) error {
	br := c.br
	ops := make([]func() error, len(b.msgs))
	var packetOuts []*ofp.PacketOut
	for i, bm := range b.msgs {
		switch m := bm.msg.(type) {
		case *ofp.FlowMod:
			ops[i] = func() error { return br.flowModLocked(m, c) }
		case *ofp.PortMod:
			ops[i] = func() error { return br.portModLocked(m) }
		case *ofp.TableMod:
			ops[i] = func() error { return br.tableModLocked(m) }
		case *ofp.PacketOut:
			// Checked in the transaction, executed once it committed.
			ops[i] = func() error {
				if err := br.checkPacketOutLocked(m); err != nil {
					return err
				}
				packetOuts = append(packetOuts, m)
				return nil
			}
		}
	}
	br.mu.Lock()
	deferred, failed, err := br.runTxnLocked(ops)
	br.mu.Unlock()
	if err != nil {
		bm := b.msgs[failed]
		c.sendError(bm.xid, err, bm.raw)
		return bundleErr(ofp.BFCMsgFailed, "bundle %d: message %d failed: %v", b.id, failed, err)
	}
	for _, f := range deferred {
		f()
	}
	for _, po := range packetOuts {
		br.executePacketOut(po)
	}
	return nil
}
