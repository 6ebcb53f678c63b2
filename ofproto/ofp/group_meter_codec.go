package ofp

// bucketLen is the size of struct ofp_bucket without its actions.
const bucketLen = 16

// appendBuckets appends ofp_bucket entries: len, weight, watch_port,
// watch_group, pad4, actions.
func appendBuckets(b []byte, buckets []Bucket) ([]byte, error) {
	for i := range buckets {
		bk := &buckets[i]
		start := len(b)
		b = append(b, 0, 0) // length, set below
		b = be.AppendUint16(b, bk.Weight)
		b = be.AppendUint32(b, bk.WatchPort)
		b = be.AppendUint32(b, bk.WatchGroup)
		b = append(b, 0, 0, 0, 0)
		var err error
		if b, err = appendActions(b, bk.Actions); err != nil {
			return b, err
		}
		if err := putLen16(b, start, start, "bucket"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decodeBuckets decodes a bucket list that fills b. A bucket shorter than
// 16 bytes or running past the end gives GMFCBadBucket.
func decodeBuckets(b []byte) ([]Bucket, error) {
	var buckets []Bucket
	for len(b) > 0 {
		if len(b) < bucketLen {
			return nil, Errorf(ETGroupModFailed, GMFCBadBucket, "bucket: %d bytes", len(b))
		}
		n := int(be.Uint16(b))
		if n < bucketLen || n > len(b) {
			return nil, Errorf(ETGroupModFailed, GMFCBadBucket, "bucket length %d, %d bytes available", n, len(b))
		}
		acts, err := DecodeActions(b[bucketLen:n])
		if err != nil {
			return nil, err
		}
		buckets = append(buckets, Bucket{
			Weight:     be.Uint16(b[2:]),
			WatchPort:  be.Uint32(b[4:]),
			WatchGroup: be.Uint32(b[8:]),
			Actions:    acts,
		})
		b = b[n:]
	}
	return buckets, nil
}

func decodeGroupMod(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, badLen("group mod", len(b)+HeaderLen)
	}
	m := &GroupMod{Command: be.Uint16(b), GroupType: b[2], GroupID: be.Uint32(b[4:])}
	var err error
	if m.Buckets, err = decodeBuckets(b[8:]); err != nil {
		return nil, err
	}
	return m, nil
}

// meterBandLen is the size of every OpenFlow 1.3 meter band but
// experimenter bands carrying extra data.
const meterBandLen = 16

// appendMeterBands appends meter bands: type, len, rate, burst_size, then
// prec_level and pad3 for DSCP remark, the experimenter id and data for
// experimenter bands, pad4 otherwise.
func appendMeterBands(b []byte, bands []MeterBand) []byte {
	for i := range bands {
		mb := &bands[i]
		start := len(b)
		b = be.AppendUint16(b, mb.BandType)
		b = append(b, 0, 0) // length, set below
		b = be.AppendUint32(b, mb.Rate)
		b = be.AppendUint32(b, mb.BurstSize)
		switch mb.BandType {
		case MeterBandDSCPRemark:
			b = append(b, mb.PrecLevel, 0, 0, 0)
		case MeterBandExperimenter:
			b = be.AppendUint32(b, mb.Experimenter)
			b = append(b, mb.Data...)
			b = appendPad8(b, start)
		default:
			b = append(b, 0, 0, 0, 0)
		}
		be.PutUint16(b[start+2:], uint16(min(len(b)-start, 0xffff)))
	}
	return b
}

// decodeMeterBands decodes a band list that fills b. Bands must be 16
// bytes long (experimenter bands at least 16 and a multiple of 8):
// BRCBadLen otherwise. Unknown band types give MMFCBadBand.
func decodeMeterBands(b []byte) ([]MeterBand, error) {
	var bands []MeterBand
	for len(b) > 0 {
		if len(b) < meterBandLen {
			return nil, badLen("meter band", len(b))
		}
		typ, n := be.Uint16(b), int(be.Uint16(b[2:]))
		if n < meterBandLen || n%8 != 0 || n > len(b) {
			return nil, badLen("meter band", n)
		}
		mb := MeterBand{BandType: typ, Rate: be.Uint32(b[4:]), BurstSize: be.Uint32(b[8:])}
		switch typ {
		case MeterBandDrop:
		case MeterBandDSCPRemark:
			mb.PrecLevel = b[12]
		case MeterBandExperimenter:
			mb.Experimenter = be.Uint32(b[12:])
			mb.Data = clone(b[16:n])
		default:
			return nil, Errorf(ETMeterModFailed, MMFCBadBand, "meter band type %d", typ)
		}
		if typ != MeterBandExperimenter && n != meterBandLen {
			return nil, badLen("meter band", n)
		}
		bands = append(bands, mb)
		b = b[n:]
	}
	return bands, nil
}

func decodeMeterMod(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, badLen("meter mod", len(b)+HeaderLen)
	}
	m := &MeterMod{Command: be.Uint16(b), Flags: be.Uint16(b[2:]), MeterID: be.Uint32(b[4:])}
	var err error
	if m.Bands, err = decodeMeterBands(b[8:]); err != nil {
		return nil, err
	}
	return m, nil
}
