package ofp

import (
	"fmt"
	"reflect"
)

// isNil reports whether v is a nil interface or a nil pointer in one.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// appendBody appends the body of m (everything after the header).
func appendBody(b []byte, m Message) ([]byte, error) {
	switch m := m.(type) {
	case *Hello:
		return appendHello(b, m), nil
	case *ErrorMsg:
		b = be.AppendUint16(b, m.ErrType)
		b = be.AppendUint16(b, m.Code)
		if m.ErrType == ETExperimenter {
			b = be.AppendUint32(b, m.Experimenter)
		}
		return append(b, m.Data...), nil
	case *EchoRequest:
		return append(b, m.Data...), nil
	case *EchoReply:
		return append(b, m.Data...), nil
	case *Experimenter:
		b = be.AppendUint32(b, m.Experimenter)
		b = be.AppendUint32(b, m.ExpType)
		return append(b, m.Data...), nil
	case *BundleCtrl:
		return appendBundleCtrl(b, m), nil
	case *BundleAdd:
		return appendBundleAdd(b, m)
	case *FeaturesRequest, *GetConfigRequest, *BarrierRequest, *BarrierReply, *GetAsyncRequest:
		return b, nil
	case *FeaturesReply:
		b = be.AppendUint64(b, m.DatapathID)
		b = be.AppendUint32(b, m.NBuffers)
		b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
		b = be.AppendUint32(b, m.Capabilities)
		return be.AppendUint32(b, 0), nil // reserved
	case *GetConfigReply:
		return appendSwitchConfig(b, m.Flags, m.MissSendLen), nil
	case *SetConfig:
		return appendSwitchConfig(b, m.Flags, m.MissSendLen), nil
	case *PacketIn:
		return appendPacketIn(b, m)
	case *FlowRemoved:
		return appendFlowRemoved(b, m)
	case *PortStatus:
		b = append(b, m.Reason, 0, 0, 0, 0, 0, 0, 0)
		return appendPort(b, &m.Desc), nil
	case *PacketOut:
		return appendPacketOut(b, m)
	case *FlowMod:
		return appendFlowMod(b, m)
	case *GroupMod:
		b = be.AppendUint16(b, m.Command)
		b = append(b, m.GroupType, 0)
		b = be.AppendUint32(b, m.GroupID)
		return appendBuckets(b, m.Buckets)
	case *PortMod:
		b = be.AppendUint32(b, m.PortNo)
		b = append(b, 0, 0, 0, 0)
		b = append(b, m.HWAddr[:]...)
		b = append(b, 0, 0)
		b = be.AppendUint32(b, m.Config)
		b = be.AppendUint32(b, m.Mask)
		b = be.AppendUint32(b, m.Advertise)
		return append(b, 0, 0, 0, 0), nil
	case *TableMod:
		b = append(b, m.TableID, 0, 0, 0)
		return be.AppendUint32(b, m.Config), nil
	case *MultipartRequest:
		return appendMultipartRequest(b, m)
	case *MultipartReply:
		return appendMultipartReply(b, m)
	case *QueueGetConfigRequest:
		b = be.AppendUint32(b, m.Port)
		return append(b, 0, 0, 0, 0), nil
	case *QueueGetConfigReply:
		return appendQueueGetConfigReply(b, m), nil
	case *RoleRequest:
		return appendRole(b, m.Role, m.GenerationID), nil
	case *RoleReply:
		return appendRole(b, m.Role, m.GenerationID), nil
	case *GetAsyncReply:
		return appendAsync(b, &m.AsyncConfig), nil
	case *SetAsync:
		return appendAsync(b, &m.AsyncConfig), nil
	case *MeterMod:
		b = be.AppendUint16(b, m.Command)
		b = be.AppendUint16(b, m.Flags)
		b = be.AppendUint32(b, m.MeterID)
		return appendMeterBands(b, m.Bands), nil
	}
	return b, fmt.Errorf("ofp: cannot marshal message of type %T", m)
}

// ---- hello ----

func appendHello(b []byte, m *Hello) []byte {
	if len(m.Bitmaps) == 0 {
		return b
	}
	start := len(b)
	b = be.AppendUint16(b, HelloElemVersionBitmap)
	b = be.AppendUint16(b, uint16(4+4*len(m.Bitmaps)))
	for _, w := range m.Bitmaps {
		b = be.AppendUint32(b, w)
	}
	return appendPad8(b, start)
}

// decodeHello decodes hello elements: TLVs whose length includes the 4-byte
// element header but not the padding to 8 that follows. The first version
// bitmap is kept; other elements are skipped. Trailing bytes too short for
// an element header are ignored.
func decodeHello(version uint8, b []byte) (Message, error) {
	m := &Hello{Version: version}
	seen := false
	for len(b) >= 4 {
		typ, n := be.Uint16(b), int(be.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			return nil, Errorf(ETBadRequest, BRCBadLen, "hello element type %d: bad length %d", typ, n)
		}
		if typ == HelloElemVersionBitmap && !seen {
			seen = true
			if words := (n - 4) / 4; words > 0 {
				m.Bitmaps = make([]uint32, words)
				for i := range m.Bitmaps {
					m.Bitmaps[i] = be.Uint32(b[4+4*i:])
				}
			}
		}
		b = b[min(pad8(n), len(b)):]
	}
	return m, nil
}

// ---- error, experimenter ----

func decodeErrorMsg(b []byte) (Message, error) {
	if len(b) < 4 {
		return nil, badLen("error", len(b)+HeaderLen)
	}
	m := &ErrorMsg{ErrType: be.Uint16(b), Code: be.Uint16(b[2:])}
	if m.ErrType != ETExperimenter {
		m.Data = clone(b[4:])
		return m, nil
	}
	if len(b) < 8 {
		return nil, badLen("experimenter error", len(b)+HeaderLen)
	}
	m.Experimenter = be.Uint32(b[4:])
	m.Data = clone(b[8:])
	return m, nil
}

func decodeExperimenter(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, badLen("experimenter", len(b)+HeaderLen)
	}
	exp, expType := be.Uint32(b), be.Uint32(b[4:])
	if exp == ONFExperimenter {
		switch expType {
		case ONFTypeBundleCtrl:
			return decodeBundleCtrl(b[8:])
		case ONFTypeBundleAdd:
			return decodeBundleAdd(b[8:])
		}
	}
	return &Experimenter{Experimenter: exp, ExpType: expType, Data: clone(b[8:])}, nil
}

// ---- features, config ----

func decodeFeaturesReply(b []byte) (Message, error) {
	if err := fixedLen(b, 24, "features reply"); err != nil {
		return nil, err
	}
	return &FeaturesReply{
		DatapathID:   be.Uint64(b),
		NBuffers:     be.Uint32(b[8:]),
		NTables:      b[12],
		AuxiliaryID:  b[13],
		Capabilities: be.Uint32(b[16:]),
	}, nil
}

func appendSwitchConfig(b []byte, flags, missSendLen uint16) []byte {
	b = be.AppendUint16(b, flags)
	return be.AppendUint16(b, missSendLen)
}

func decodeGetConfigReply(b []byte) (Message, error) {
	if err := fixedLen(b, 4, "get config reply"); err != nil {
		return nil, err
	}
	return &GetConfigReply{Flags: be.Uint16(b), MissSendLen: be.Uint16(b[2:])}, nil
}

func decodeSetConfig(b []byte) (Message, error) {
	if err := fixedLen(b, 4, "set config"); err != nil {
		return nil, err
	}
	return &SetConfig{Flags: be.Uint16(b), MissSendLen: be.Uint16(b[2:])}, nil
}

// ---- packet-in, flow-removed, port-status ----

// appendPacketIn: buffer_id, total_len, reason, table_id, cookie, match,
// 2 bytes of padding, frame.
func appendPacketIn(b []byte, m *PacketIn) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint16(b, m.TotalLen)
	b = append(b, m.Reason, m.TableID)
	b = be.AppendUint64(b, m.Cookie)
	b, err := appendMatch(b, &m.Match)
	if err != nil {
		return b, err
	}
	b = append(b, 0, 0)
	return append(b, m.Data...), nil
}

func decodePacketIn(b []byte) (Message, error) {
	if len(b) < 16+8+2 {
		return nil, badLen("packet-in", len(b)+HeaderLen)
	}
	m := &PacketIn{
		BufferID: be.Uint32(b),
		TotalLen: be.Uint16(b[4:]),
		Reason:   b[6],
		TableID:  b[7],
		Cookie:   be.Uint64(b[8:]),
	}
	match, n, err := DecodeMatch(b[16:])
	if err != nil {
		return nil, err
	}
	m.Match = match
	rest := b[16+n:]
	if len(rest) < 2 {
		return nil, badLen("packet-in", len(b)+HeaderLen)
	}
	m.Data = clone(rest[2:])
	return m, nil
}

func appendFlowRemoved(b []byte, m *FlowRemoved) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint16(b, m.Priority)
	b = append(b, m.Reason, m.TableID)
	b = be.AppendUint32(b, m.DurationSec)
	b = be.AppendUint32(b, m.DurationNsec)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint64(b, m.PacketCount)
	b = be.AppendUint64(b, m.ByteCount)
	return appendMatch(b, &m.Match)
}

func decodeFlowRemoved(b []byte) (Message, error) {
	if len(b) < 40+8 {
		return nil, badLen("flow removed", len(b)+HeaderLen)
	}
	m := &FlowRemoved{
		Cookie:       be.Uint64(b),
		Priority:     be.Uint16(b[8:]),
		Reason:       b[10],
		TableID:      b[11],
		DurationSec:  be.Uint32(b[12:]),
		DurationNsec: be.Uint32(b[16:]),
		IdleTimeout:  be.Uint16(b[20:]),
		HardTimeout:  be.Uint16(b[22:]),
		PacketCount:  be.Uint64(b[24:]),
		ByteCount:    be.Uint64(b[32:]),
	}
	match, n, err := DecodeMatch(b[40:])
	if err != nil {
		return nil, err
	}
	if 40+n != len(b) {
		return nil, badLen("flow removed", len(b)+HeaderLen)
	}
	m.Match = match
	return m, nil
}

func decodePortStatus(b []byte) (Message, error) {
	if err := fixedLen(b, 8+portLen, "port status"); err != nil {
		return nil, err
	}
	return &PortStatus{Reason: b[0], Desc: decodePort(b[8:])}, nil
}

// portLen is the size of struct ofp_port.
const portLen = 64

// appendPort appends struct ofp_port: port_no, pad4, hw_addr, pad2,
// name[16], then eight 32-bit fields.
func appendPort(b []byte, p *Port) []byte {
	b = be.AppendUint32(b, p.PortNo)
	b = append(b, 0, 0, 0, 0)
	b = append(b, p.HWAddr[:]...)
	b = append(b, 0, 0)
	b = appendCString(b, p.Name, 16)
	for _, v := range [...]uint32{p.Config, p.State, p.Curr, p.Advertised, p.Supported, p.Peer, p.CurrSpeed, p.MaxSpeed} {
		b = be.AppendUint32(b, v)
	}
	return b
}

// decodePort decodes struct ofp_port; b has at least portLen bytes.
func decodePort(b []byte) Port {
	p := Port{
		PortNo:     be.Uint32(b),
		Name:       cString(b[16:32]),
		Config:     be.Uint32(b[32:]),
		State:      be.Uint32(b[36:]),
		Curr:       be.Uint32(b[40:]),
		Advertised: be.Uint32(b[44:]),
		Supported:  be.Uint32(b[48:]),
		Peer:       be.Uint32(b[52:]),
		CurrSpeed:  be.Uint32(b[56:]),
		MaxSpeed:   be.Uint32(b[60:]),
	}
	copy(p.HWAddr[:], b[8:14])
	return p
}

// ---- packet-out, flow-mod, port-mod, table-mod ----

// appendPacketOut: buffer_id, in_port, actions_len, pad6, actions, frame.
func appendPacketOut(b []byte, m *PacketOut) ([]byte, error) {
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.InPort)
	at := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b, err := appendActions(b, m.Actions)
	if err != nil {
		return b, err
	}
	if err := putLen16(b, at, at+8, "packet-out actions"); err != nil {
		return b, err
	}
	return append(b, m.Data...), nil
}

func decodePacketOut(b []byte) (Message, error) {
	if len(b) < 16 {
		return nil, badLen("packet-out", len(b)+HeaderLen)
	}
	m := &PacketOut{BufferID: be.Uint32(b), InPort: be.Uint32(b[4:])}
	n := int(be.Uint16(b[8:]))
	if n > len(b)-16 {
		return nil, badLen("packet-out actions", n)
	}
	acts, err := DecodeActions(b[16 : 16+n])
	if err != nil {
		return nil, err
	}
	m.Actions = acts
	m.Data = clone(b[16+n:])
	return m, nil
}

// appendFlowMod: cookie, cookie_mask, table_id, command, idle, hard,
// priority, buffer_id, out_port, out_group, flags, pad2, match,
// instructions.
func appendFlowMod(b []byte, m *FlowMod) ([]byte, error) {
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	b = append(b, m.TableID, m.Command)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint16(b, m.Priority)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = be.AppendUint16(b, m.Flags)
	b = append(b, 0, 0)
	b, err := appendMatch(b, &m.Match)
	if err != nil {
		return b, err
	}
	return appendInstructions(b, m.Instructions)
}

func decodeFlowMod(b []byte) (Message, error) {
	if len(b) < 40+8 {
		return nil, badLen("flow mod", len(b)+HeaderLen)
	}
	m := &FlowMod{
		Cookie:      be.Uint64(b),
		CookieMask:  be.Uint64(b[8:]),
		TableID:     b[16],
		Command:     b[17],
		IdleTimeout: be.Uint16(b[18:]),
		HardTimeout: be.Uint16(b[20:]),
		Priority:    be.Uint16(b[22:]),
		BufferID:    be.Uint32(b[24:]),
		OutPort:     be.Uint32(b[28:]),
		OutGroup:    be.Uint32(b[32:]),
		Flags:       be.Uint16(b[36:]),
	}
	match, n, err := DecodeMatch(b[40:])
	if err != nil {
		return nil, err
	}
	m.Match = match
	if m.Instructions, err = DecodeInstructions(b[40+n:]); err != nil {
		return nil, err
	}
	return m, nil
}

func decodePortMod(b []byte) (Message, error) {
	if err := fixedLen(b, 32, "port mod"); err != nil {
		return nil, err
	}
	m := &PortMod{
		PortNo:    be.Uint32(b),
		Config:    be.Uint32(b[16:]),
		Mask:      be.Uint32(b[20:]),
		Advertise: be.Uint32(b[24:]),
	}
	copy(m.HWAddr[:], b[8:14])
	return m, nil
}

func decodeTableMod(b []byte) (Message, error) {
	if err := fixedLen(b, 8, "table mod"); err != nil {
		return nil, err
	}
	return &TableMod{TableID: b[0], Config: be.Uint32(b[4:])}, nil
}

// ---- roles, async config ----

func appendRole(b []byte, role uint32, gen uint64) []byte {
	b = be.AppendUint32(b, role)
	b = append(b, 0, 0, 0, 0)
	return be.AppendUint64(b, gen)
}

func decodeRoleRequest(b []byte) (Message, error) {
	if err := fixedLen(b, 16, "role request"); err != nil {
		return nil, err
	}
	return &RoleRequest{Role: be.Uint32(b), GenerationID: be.Uint64(b[8:])}, nil
}

func decodeRoleReply(b []byte) (Message, error) {
	if err := fixedLen(b, 16, "role reply"); err != nil {
		return nil, err
	}
	return &RoleReply{Role: be.Uint32(b), GenerationID: be.Uint64(b[8:])}, nil
}

// appendAsync: packet_in_mask[2], port_status_mask[2], flow_removed_mask[2].
func appendAsync(b []byte, c *AsyncConfig) []byte {
	for _, pair := range [...][2]uint32{c.PacketInMask, c.PortStatusMask, c.FlowRemovedMask} {
		b = be.AppendUint32(b, pair[0])
		b = be.AppendUint32(b, pair[1])
	}
	return b
}

func decodeAsync(b []byte, what string) (AsyncConfig, error) {
	var c AsyncConfig
	if err := fixedLen(b, 24, what); err != nil {
		return c, err
	}
	for i, p := range [...]*[2]uint32{&c.PacketInMask, &c.PortStatusMask, &c.FlowRemovedMask} {
		p[0], p[1] = be.Uint32(b[8*i:]), be.Uint32(b[8*i+4:])
	}
	return c, nil
}

func decodeGetAsyncReply(b []byte) (Message, error) {
	c, err := decodeAsync(b, "get async reply")
	if err != nil {
		return nil, err
	}
	return &GetAsyncReply{c}, nil
}

func decodeSetAsync(b []byte) (Message, error) {
	c, err := decodeAsync(b, "set async")
	if err != nil {
		return nil, err
	}
	return &SetAsync{c}, nil
}

// ---- queue config ----

func decodeQueueGetConfigRequest(b []byte) (Message, error) {
	if err := fixedLen(b, 8, "queue get config request"); err != nil {
		return nil, err
	}
	return &QueueGetConfigRequest{Port: be.Uint32(b)}, nil
}

// appendQueueGetConfigReply: port, pad4, then ofp_packet_queue entries
// (queue_id, port, len, pad6, properties). min_rate and max_rate
// properties are (property, len=16, pad4, rate, pad6).
func appendQueueGetConfigReply(b []byte, m *QueueGetConfigReply) []byte {
	b = be.AppendUint32(b, m.Port)
	b = append(b, 0, 0, 0, 0)
	for i := range m.Queues {
		q := &m.Queues[i]
		n := 16
		if q.HasMin {
			n += 16
		}
		if q.HasMax {
			n += 16
		}
		b = be.AppendUint32(b, q.QueueID)
		b = be.AppendUint32(b, q.Port)
		b = be.AppendUint16(b, uint16(n))
		b = appendZeros(b, 6)
		if q.HasMin {
			b = appendQueueRate(b, QueuePropMinRate, q.MinRate)
		}
		if q.HasMax {
			b = appendQueueRate(b, QueuePropMaxRate, q.MaxRate)
		}
	}
	return b
}

func appendQueueRate(b []byte, prop uint16, rate uint16) []byte {
	b = be.AppendUint16(b, prop)
	b = be.AppendUint16(b, 16)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint16(b, rate)
	return appendZeros(b, 6)
}

// decodeQueueGetConfigReply keeps min and max rate properties and skips
// other (experimenter) properties.
func decodeQueueGetConfigReply(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, badLen("queue get config reply", len(b)+HeaderLen)
	}
	m := &QueueGetConfigReply{Port: be.Uint32(b)}
	for b = b[8:]; len(b) > 0; {
		if len(b) < 16 {
			return nil, badLen("packet queue", len(b))
		}
		n := int(be.Uint16(b[8:]))
		if n < 16 || n > len(b) {
			return nil, badLen("packet queue", n)
		}
		q := PacketQueue{QueueID: be.Uint32(b), Port: be.Uint32(b[4:])}
		for props := b[16:n]; len(props) > 0; {
			if len(props) < 8 {
				return nil, badLen("queue property", len(props))
			}
			typ, pn := be.Uint16(props), int(be.Uint16(props[2:]))
			if pn < 8 || pn > len(props) {
				return nil, badLen("queue property", pn)
			}
			if typ == QueuePropMinRate || typ == QueuePropMaxRate {
				if pn != 16 {
					return nil, badLen("queue rate property", pn)
				}
				if typ == QueuePropMinRate {
					q.HasMin, q.MinRate = true, be.Uint16(props[8:])
				} else {
					q.HasMax, q.MaxRate = true, be.Uint16(props[8:])
				}
			}
			props = props[pn:]
		}
		m.Queues = append(m.Queues, q)
		b = b[n:]
	}
	return m, nil
}
