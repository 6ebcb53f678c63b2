package ofp

// tableFeaturesLen is the fixed part of struct ofp_table_features:
// length, table_id, pad5, name[32], metadata_match, metadata_write,
// config, max_entries.
const tableFeaturesLen = 64

// tfpKind is how a table feature property's payload is laid out.
type tfpKind uint8

const (
	tfpRaw          tfpKind = iota // unknown type: payload kept in Data
	tfpInstrIDs                    // instruction ids: (type, len) headers, in IDs
	tfpActionIDs                   // action ids: (type, len) headers, in IDs
	tfpTables                      // next tables: one byte each, in Tables
	tfpOXMs                        // OXM ids: 32-bit words, in OXMs
	tfpExperimenter                // experimenter, exp_type, data
)

// tfpKinds maps each property type to its layout.
var tfpKinds = map[uint16]tfpKind{
	TFPInstructions:      tfpInstrIDs,
	TFPInstructionsMiss:  tfpInstrIDs,
	TFPNextTables:        tfpTables,
	TFPNextTablesMiss:    tfpTables,
	TFPWriteActions:      tfpActionIDs,
	TFPWriteActionsMiss:  tfpActionIDs,
	TFPApplyActions:      tfpActionIDs,
	TFPApplyActionsMiss:  tfpActionIDs,
	TFPMatch:             tfpOXMs,
	TFPWildcards:         tfpOXMs,
	TFPWriteSetfield:     tfpOXMs,
	TFPWriteSetfieldMiss: tfpOXMs,
	TFPApplySetfield:     tfpOXMs,
	TFPApplySetfieldMiss: tfpOXMs,
	TFPExperimenter:      tfpExperimenter,
	TFPExperimenterMiss:  tfpExperimenter,
}

func tfErr(code uint16, format string, args ...any) *Error {
	return Errorf(ETTableFeaturesFailed, code, format, args...)
}

// appendTableFeatures appends one ofp_table_features with its properties.
func appendTableFeatures(b []byte, t *TableFeatures) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, t.TableID, 0, 0, 0, 0, 0)
	b = appendCString(b, t.Name, 32)
	b = be.AppendUint64(b, t.MetadataMatch)
	b = be.AppendUint64(b, t.MetadataWrite)
	b = be.AppendUint32(b, t.Config)
	b = be.AppendUint32(b, t.MaxEntries)
	for i := range t.Props {
		var err error
		if b, err = appendTableFeatureProp(b, &t.Props[i]); err != nil {
			return b, err
		}
	}
	return b, putLen16(b, start, start, "table features entry")
}

// appendTableFeatureProp appends one property: type, length (header and
// payload, not the padding), payload, padding to 8.
func appendTableFeatureProp(b []byte, p *TableFeatureProp) ([]byte, error) {
	start := len(b)
	b = be.AppendUint16(b, p.Type)
	b = append(b, 0, 0) // length, set below
	switch tfpKinds[p.Type] {
	case tfpInstrIDs, tfpActionIDs:
		for _, id := range p.IDs {
			b = be.AppendUint16(b, id)
			b = be.AppendUint16(b, 4)
		}
	case tfpTables:
		b = append(b, p.Tables...)
	case tfpOXMs:
		for _, h := range p.OXMs {
			b = be.AppendUint32(b, h)
		}
	case tfpExperimenter:
		b = be.AppendUint32(b, p.Experimenter)
		b = be.AppendUint32(b, p.ExpType)
		b = append(b, p.Data...)
	default:
		b = append(b, p.Data...)
	}
	if err := putLen16(b, start+2, start, "table feature property"); err != nil {
		return b, err
	}
	return appendPad8(b, start), nil
}

// decodeTableFeaturesList decodes the ofp_table_features entries filling b.
// Framing errors are TFFCBadLen.
func decodeTableFeaturesList(b []byte) ([]TableFeatures, error) {
	var out []TableFeatures
	for len(b) > 0 {
		if len(b) < tableFeaturesLen {
			return nil, tfErr(TFFCBadLen, "table features: %d bytes", len(b))
		}
		n := int(be.Uint16(b))
		if n < tableFeaturesLen || n > len(b) {
			return nil, tfErr(TFFCBadLen, "table features length %d, %d bytes available", n, len(b))
		}
		t := TableFeatures{
			TableID:       b[2],
			Name:          cString(b[8:40]),
			MetadataMatch: be.Uint64(b[40:]),
			MetadataWrite: be.Uint64(b[48:]),
			Config:        be.Uint32(b[56:]),
			MaxEntries:    be.Uint32(b[60:]),
		}
		var err error
		if t.Props, err = decodeTableFeatureProps(b[tableFeaturesLen:n]); err != nil {
			return nil, err
		}
		out = append(out, t)
		b = b[n:]
	}
	return out, nil
}

func decodeTableFeatureProps(b []byte) ([]TableFeatureProp, error) {
	var props []TableFeatureProp
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, tfErr(TFFCBadLen, "table feature property: %d bytes", len(b))
		}
		typ, n := be.Uint16(b), int(be.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			return nil, tfErr(TFFCBadLen, "table feature property %d: length %d, %d bytes available", typ, n, len(b))
		}
		p, err := decodeTableFeatureProp(typ, b[4:n])
		if err != nil {
			return nil, err
		}
		props = append(props, p)
		b = b[min(pad8(n), len(b)):]
	}
	return props, nil
}

func decodeTableFeatureProp(typ uint16, b []byte) (TableFeatureProp, error) {
	p := TableFeatureProp{Type: typ}
	switch tfpKinds[typ] {
	case tfpInstrIDs, tfpActionIDs:
		// Each id is a (type, len) header; experimenter ids are longer
		// (len covers the experimenter id), only their type is kept.
		for len(b) > 0 {
			if len(b) < 4 {
				return p, tfErr(TFFCBadLen, "table feature property %d: truncated id", typ)
			}
			n := int(be.Uint16(b[2:]))
			if n < 4 || n > len(b) {
				return p, tfErr(TFFCBadLen, "table feature property %d: id length %d", typ, n)
			}
			p.IDs = append(p.IDs, be.Uint16(b))
			b = b[n:]
		}
	case tfpTables:
		p.Tables = clone(b)
	case tfpOXMs:
		// Experimenter OXM ids take two words (header, experimenter);
		// the words are kept as they are.
		if len(b)%4 != 0 {
			return p, tfErr(TFFCBadLen, "table feature property %d: %d bytes of OXM ids", typ, len(b))
		}
		if len(b) > 0 {
			p.OXMs = make([]uint32, len(b)/4)
			for i := range p.OXMs {
				p.OXMs[i] = be.Uint32(b[4*i:])
			}
		}
	case tfpExperimenter:
		if len(b) < 8 {
			return p, tfErr(TFFCBadLen, "experimenter table feature property: %d bytes", len(b))
		}
		p.Experimenter, p.ExpType, p.Data = be.Uint32(b), be.Uint32(b[4:]), clone(b[8:])
	default:
		p.Data = clone(b)
	}
	return p, nil
}

func decodeTableFeaturesRequest(b []byte) (MultipartBody, error) {
	f, err := decodeTableFeaturesList(b)
	if err != nil {
		return nil, err
	}
	return &TableFeaturesRequest{Features: f}, nil
}

func decodeTableFeaturesReply(b []byte) (MultipartBody, error) {
	f, err := decodeTableFeaturesList(b)
	if err != nil {
		return nil, err
	}
	return &TableFeaturesReply{Features: f}, nil
}
