package ofproto

import (
	"github.com/govs/govs/ofproto/ofp"
)

// Capabilities reported in FEATURES_REPLY.
const switchCapabilities = ofp.CapFlowStats | ofp.CapTableStats | ofp.CapPortStats | ofp.CapGroupStats | ofp.CapQueueStats

// handle decodes and handles one message from the peer. Every request gets
// its reply or an ERROR; nothing closes the connection but a broken stream.
func (c *conn) handle(msg []byte) {
	h, m, err := ofp.Decode(msg)
	if err != nil {
		c.sendError(h.Xid, err, msg)
		return
	}
	if err := c.dispatch(h, m, msg); err != nil {
		c.sendError(h.Xid, err, msg)
	}
}

// isStateChange reports whether a message changes switch state, which a
// slave may not do.
func isStateChange(m ofp.Message) bool {
	switch m := m.(type) {
	case *ofp.PacketOut, *ofp.FlowMod, *ofp.GroupMod, *ofp.PortMod, *ofp.TableMod, *ofp.MeterMod:
		return true
	case *ofp.MultipartRequest:
		tf, ok := m.Body.(*ofp.TableFeaturesRequest)
		return ok && len(tf.Features) > 0
	case *ofp.BundleCtrl, *ofp.BundleAdd:
		return true
	}
	return false
}

func (c *conn) dispatch(h ofp.Header, m ofp.Message, raw []byte) error {
	br := c.br
	if isStateChange(m) && c.isSlave() {
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCIsSlave, "slave connection")
	}
	switch m := m.(type) {
	case *ofp.Hello:
		// A second hello is harmless.
	case *ofp.ErrorMsg:
		c.log.WithField("xid", h.Xid).Infof("peer sent error type %d code %d", m.ErrType, m.Code)
	case *ofp.EchoRequest:
		c.sendMsg(h.Xid, &ofp.EchoReply{Data: m.Data})
	case *ofp.EchoReply:
	case *ofp.FeaturesRequest:
		c.sendMsg(h.Xid, &ofp.FeaturesReply{
			DatapathID:   br.cfg.DatapathID,
			NBuffers:     0,
			NTables:      NumTables,
			Capabilities: switchCapabilities,
		})
	case *ofp.GetConfigRequest:
		c.mu.Lock()
		msl := c.missSendLen
		c.mu.Unlock()
		c.sendMsg(h.Xid, &ofp.GetConfigReply{Flags: uint16(br.swConfig.Load()), MissSendLen: msl})
	case *ofp.SetConfig:
		if m.Flags&^uint16(ofp.ConfigFragMask|4) != 0 {
			return ofp.Errorf(ofp.ETSwitchConfigFailed, ofp.SCFCBadFlags, "flags %#x", m.Flags)
		}
		if m.Flags&ofp.ConfigFragMask != ofp.ConfigFragNormal {
			// Fragments are handled as they are: no reassembly, no drop.
			return ofp.Errorf(ofp.ETSwitchConfigFailed, ofp.SCFCBadFlags, "only frag handling 'normal' is supported")
		}
		br.swConfig.Store(uint32(m.Flags))
		c.mu.Lock()
		c.missSendLen = m.MissSendLen
		c.mu.Unlock()
	case *ofp.BarrierRequest:
		// Every earlier message has been handled completely (this
		// goroutine handles them in order, and changes invalidate the
		// datapath before returning), so the barrier is already met.
		c.sendMsg(h.Xid, &ofp.BarrierReply{})
	case *ofp.FlowMod:
		br.mu.Lock()
		err := br.flowModLocked(m, c)
		br.mu.Unlock()
		return err
	case *ofp.PacketOut:
		return br.packetOut(m)
	case *ofp.PortMod:
		br.mu.Lock()
		defer br.mu.Unlock()
		return br.portModLocked(m)
	case *ofp.TableMod:
		br.mu.Lock()
		defer br.mu.Unlock()
		return br.tableModLocked(m)
	case *ofp.GroupMod:
		return br.groupMod(m)
	case *ofp.MeterMod:
		return br.meterMod(m)
	case *ofp.MultipartRequest:
		return c.multipart(h, m, raw)
	case *ofp.QueueGetConfigRequest:
		return c.queueGetConfig(h, m)
	case *ofp.RoleRequest:
		return c.roleRequest(h, m)
	case *ofp.GetAsyncRequest:
		c.mu.Lock()
		a := c.async
		c.mu.Unlock()
		c.sendMsg(h.Xid, &ofp.GetAsyncReply{AsyncConfig: a})
	case *ofp.SetAsync:
		c.mu.Lock()
		c.async = m.AsyncConfig
		c.mu.Unlock()
	case *ofp.BundleCtrl:
		return c.bundleCtrl(h, m)
	case *ofp.BundleAdd:
		return c.bundleAdd(h, m, raw)
	case *ofp.Experimenter:
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadExperimenter, "experimenter %#x", m.Experimenter)
	default:
		// Replies and switch-to-controller messages make no sense here.
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadType, "unexpected %T", m)
	}
	return nil
}

func (c *conn) isSlave() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role == ofp.RoleSlave
}

// roleRequest changes (or queries) the connection's role. A master
// demotes the other masters to slaves. Generation ids must not go
// backwards (compared as a wrapping 64-bit sequence); equal ids are
// accepted, since ONOS sends the same (often 0) repeatedly.
func (c *conn) roleRequest(h ofp.Header, m *ofp.RoleRequest) error {
	br := c.br
	switch m.Role {
	case ofp.RoleNoChange, ofp.RoleEqual, ofp.RoleMaster, ofp.RoleSlave:
	default:
		return ofp.Errorf(ofp.ETRoleRequestFailed, ofp.RRFCBadRole, "role %d", m.Role)
	}
	if c.kind != connPrimary && m.Role != ofp.RoleNoChange {
		return ofp.Errorf(ofp.ETRoleRequestFailed, ofp.RRFCUnsup, "roles are for controllers")
	}
	br.mu.Lock()
	if m.Role == ofp.RoleMaster || m.Role == ofp.RoleSlave {
		g := &br.genID
		if g.defined && int64(m.GenerationID-g.id) < 0 {
			br.mu.Unlock()
			return ofp.Errorf(ofp.ETRoleRequestFailed, ofp.RRFCStale, "generation %d < %d", m.GenerationID, g.id)
		}
		g.defined, g.id = true, m.GenerationID
	}
	gen := br.genID.id
	br.mu.Unlock()
	if m.Role != ofp.RoleNoChange {
		if m.Role == ofp.RoleMaster {
			for _, o := range c.mgr.snapshot() {
				if o == c {
					continue
				}
				o.mu.Lock()
				if o.role == ofp.RoleMaster {
					o.role = ofp.RoleSlave
				}
				o.mu.Unlock()
			}
		}
		c.mu.Lock()
		c.role = m.Role
		c.mu.Unlock()
	}
	c.mu.Lock()
	role := c.role
	c.mu.Unlock()
	c.sendMsg(h.Xid, &ofp.RoleReply{Role: role, GenerationID: gen})
	return nil
}

// queueGetConfig answers QUEUE_GET_CONFIG: ports have no queues.
func (c *conn) queueGetConfig(h ofp.Header, m *ofp.QueueGetConfigRequest) error {
	br := c.br
	br.mu.RLock()
	_, ok := br.ports[m.Port]
	br.mu.RUnlock()
	if !ok && m.Port != ofp.PortAny {
		return ofp.Errorf(ofp.ETQueueOpFailed, ofp.QOFCBadPort, "port %d", m.Port)
	}
	c.sendMsg(h.Xid, &ofp.QueueGetConfigReply{Port: m.Port})
	return nil
}

// packetOut validates and executes a PACKET_OUT.
func (br *Bridge) packetOut(po *ofp.PacketOut) error {
	br.mu.RLock()
	err := br.checkPacketOutLocked(po)
	br.mu.RUnlock()
	if err != nil {
		return err
	}
	br.executePacketOut(po)
	return nil
}

// checkPacketOutLocked validates a PACKET_OUT. mu must be held.
func (br *Bridge) checkPacketOutLocked(po *ofp.PacketOut) error {
	if po.BufferID != ofp.NoBuffer {
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBufferUnknown, "buffer %#x (the switch does not buffer)", po.BufferID)
	}
	if !(po.InPort < ofp.PortMax || po.InPort == ofp.PortController || po.InPort == ofp.PortLocal) {
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadPort, "in_port %s", portName(po.InPort))
	}
	if len(po.Data) < 14 {
		return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadPacket, "packet of %d bytes", len(po.Data))
	}
	return br.validateActions(po.Actions, nil, true)
}

// portModLocked changes a port's OpenFlow config bits. mu must be held for
// writing.
func (br *Bridge) portModLocked(pm *ofp.PortMod) error {
	const known = ofp.PortConfigDown | ofp.PortConfigNoRecv | ofp.PortConfigNoFwd | ofp.PortConfigNoPacketIn
	op := br.ports[pm.PortNo]
	if op == nil {
		return ofp.Errorf(ofp.ETPortModFailed, ofp.PMFCBadPort, "port %d", pm.PortNo)
	}
	if [6]byte(op.info.MAC) != pm.HWAddr {
		return ofp.Errorf(ofp.ETPortModFailed, ofp.PMFCBadHWAddr, "hw_addr does not match port %d", pm.PortNo)
	}
	if pm.Mask&^known != 0 {
		return ofp.Errorf(ofp.ETPortModFailed, ofp.PMFCBadConfig, "config mask %#x", pm.Mask)
	}
	old := op.config
	br.setPortConfigLocked(op, op.config&^pm.Mask|pm.Config&pm.Mask)
	br.onUndo(func() { br.setPortConfigLocked(op, old) })
	if old != op.config {
		br.invalidateLocked()
		desc := br.portDesc(op)
		br.afterCommit(func() { br.conns.portStatus(ofp.PortReasonModify, desc) })
	}
	return nil
}

// setPortConfigLocked sets a port's config bits, taking the interface down
// or up when OFPPC_PORT_DOWN changes.
func (br *Bridge) setPortConfigLocked(op *ofPort, config uint32) {
	old := op.config
	op.config = config
	if (old^config)&ofp.PortConfigDown != 0 {
		if as, ok := op.vp.(interface{ SetAdminUp(bool) error }); ok {
			if err := as.SetAdminUp(config&ofp.PortConfigDown == 0); err != nil {
				br.log.WithError(err).WithField("port", op.info.Name).Warn("cannot change admin state")
			}
		}
	}
}

// tableModLocked accepts the only OpenFlow 1.3 table config (0; the
// table-miss bits are deprecated and ignored). mu must be held for writing.
func (br *Bridge) tableModLocked(tm *ofp.TableMod) error {
	if tm.TableID != ofp.TableAll && int(tm.TableID) >= NumTables {
		return ofp.Errorf(ofp.ETTableModFailed, ofp.TMFCBadTable, "table %d", tm.TableID)
	}
	if tm.Config&^uint32(3) != 0 {
		return ofp.Errorf(ofp.ETTableModFailed, ofp.TMFCBadConfig, "config %#x", tm.Config)
	}
	for _, t := range br.tables {
		if tm.TableID == ofp.TableAll || t.id == tm.TableID {
			old := t.config
			t.config = tm.Config
			br.onUndo(func() { t.config = old })
		}
	}
	return nil
}
