package ofp

import (
	"errors"
	"fmt"
)

// mpHeaderLen is the multipart header after the OpenFlow header: type(16)
// flags(16) pad(32).
const mpHeaderLen = 8

// mpSpec decodes the request and reply bodies of one multipart type.
type mpSpec struct {
	request func(b []byte) (MultipartBody, error)
	reply   func(b []byte) (MultipartBody, error)
}

// mpSpecs is the table of multipart types (experimenter, 0xffff, apart).
var mpSpecs = [...]mpSpec{
	MPDesc:          {noBody(func() MultipartBody { return &DescRequest{} }), decodeDescReply},
	MPFlow:          {decodeFlowStatsRequest, decodeFlowStatsReply},
	MPAggregate:     {decodeAggregateRequest, decodeAggregateReply},
	MPTable:         {noBody(func() MultipartBody { return &TableStatsRequest{} }), decodeTableStatsReply},
	MPPortStats:     {decodePortStatsRequest, decodePortStatsReply},
	MPQueue:         {decodeQueueStatsRequest, decodeQueueStatsReply},
	MPGroup:         {decodeGroupStatsRequest, decodeGroupStatsReply},
	MPGroupDesc:     {noBody(func() MultipartBody { return &GroupDescRequest{} }), decodeGroupDescReply},
	MPGroupFeatures: {noBody(func() MultipartBody { return &GroupFeaturesRequest{} }), decodeGroupFeaturesReply},
	MPMeter:         {decodeMeterStatsRequest, decodeMeterStatsReply},
	MPMeterConfig:   {decodeMeterConfigRequest, decodeMeterConfigReply},
	MPMeterFeatures: {noBody(func() MultipartBody { return &MeterFeaturesRequest{} }), decodeMeterFeaturesReply},
	MPTableFeatures: {decodeTableFeaturesRequest, decodeTableFeaturesReply},
	MPPortDesc:      {noBody(func() MultipartBody { return &PortDescRequest{} }), decodePortDescReply},
}

func decodeMultipartRequest(b []byte) (Message, error) {
	flags, body, err := decodeMultipart(b, true)
	if err != nil {
		return nil, err
	}
	return &MultipartRequest{Flags: flags, Body: body}, nil
}

func decodeMultipartReply(b []byte) (Message, error) {
	flags, body, err := decodeMultipart(b, false)
	if err != nil {
		return nil, err
	}
	return &MultipartReply{Flags: flags, Body: body}, nil
}

func decodeMultipart(b []byte, request bool) (uint16, MultipartBody, error) {
	if len(b) < mpHeaderLen {
		return 0, nil, badLen("multipart", len(b)+HeaderLen)
	}
	typ, flags, body := MultipartType(be.Uint16(b)), be.Uint16(b[2:]), b[mpHeaderLen:]
	if typ == MPExperimenter {
		if len(body) < 8 {
			return 0, nil, badLen("experimenter multipart", len(b)+HeaderLen)
		}
		exp, expType, data := be.Uint32(body), be.Uint32(body[4:]), clone(body[8:])
		if request {
			return flags, &ExperimenterMPRequest{Experimenter: exp, ExpType: expType, Data: data}, nil
		}
		return flags, &ExperimenterMPReply{Experimenter: exp, ExpType: expType, Data: data}, nil
	}
	if int(typ) >= len(mpSpecs) {
		return 0, nil, Errorf(ETBadRequest, BRCBadMultipart, "multipart type %d", typ)
	}
	dec := mpSpecs[typ].reply
	if request {
		dec = mpSpecs[typ].request
	}
	m, err := dec(body)
	return flags, m, err
}

func appendMultipartRequest(b []byte, m *MultipartRequest) ([]byte, error) {
	return appendMultipart(b, m.Flags, m.Body, true)
}

func appendMultipartReply(b []byte, m *MultipartReply) ([]byte, error) {
	return appendMultipart(b, m.Flags, m.Body, false)
}

func appendMultipart(b []byte, flags uint16, body MultipartBody, request bool) ([]byte, error) {
	if isNil(body) {
		return b, errors.New("ofp: multipart message without a body")
	}
	b = be.AppendUint16(b, uint16(body.MultipartType()))
	b = be.AppendUint16(b, flags)
	b = append(b, 0, 0, 0, 0)
	b, isRequest, err := appendMPBody(b, body)
	if err != nil {
		return b, err
	}
	if isRequest != request {
		return b, fmt.Errorf("ofp: multipart body %T in the wrong direction", body)
	}
	return b, nil
}

// appendMPBody appends a multipart body and says whether it is a request
// body.
func appendMPBody(b []byte, body MultipartBody) ([]byte, bool, error) {
	var err error
	switch m := body.(type) {
	case *DescRequest, *TableStatsRequest, *GroupDescRequest, *GroupFeaturesRequest,
		*MeterFeaturesRequest, *PortDescRequest:
		return b, true, nil
	case *FlowStatsRequest:
		b, err = appendFlowStatsRequest(b, m)
		return b, true, err
	case *AggregateStatsRequest:
		b, err = appendFlowStatsRequest(b, &m.FlowStatsRequest)
		return b, true, err
	case *PortStatsRequest:
		return appendIDPad(b, m.PortNo), true, nil
	case *QueueStatsRequest:
		b = be.AppendUint32(b, m.PortNo)
		return be.AppendUint32(b, m.QueueID), true, nil
	case *GroupStatsRequest:
		return appendIDPad(b, m.GroupID), true, nil
	case *MeterStatsRequest:
		return appendIDPad(b, m.MeterID), true, nil
	case *MeterConfigRequest:
		return appendIDPad(b, m.MeterID), true, nil
	case *TableFeaturesRequest:
		b, err = appendList(b, m.Features, appendTableFeatures)
		return b, true, err
	case *ExperimenterMPRequest:
		return appendExpMP(b, m.Experimenter, m.ExpType, m.Data), true, nil

	case *DescReply:
		b = appendCString(b, m.MfrDesc, 256)
		b = appendCString(b, m.HWDesc, 256)
		b = appendCString(b, m.SWDesc, 256)
		b = appendCString(b, m.SerialNum, 32)
		return appendCString(b, m.DPDesc, 256), false, nil
	case *AggregateStatsReply:
		b = be.AppendUint64(b, m.PacketCount)
		b = be.AppendUint64(b, m.ByteCount)
		b = be.AppendUint32(b, m.FlowCount)
		return append(b, 0, 0, 0, 0), false, nil
	case *GroupFeaturesReply:
		b = be.AppendUint32(b, m.Types)
		b = be.AppendUint32(b, m.Capabilities)
		for _, v := range m.MaxGroups {
			b = be.AppendUint32(b, v)
		}
		for _, v := range m.Actions {
			b = be.AppendUint32(b, v)
		}
		return b, false, nil
	case *MeterFeaturesReply:
		b = be.AppendUint32(b, m.MaxMeter)
		b = be.AppendUint32(b, m.BandTypes)
		b = be.AppendUint32(b, m.Capabilities)
		return append(b, m.MaxBands, m.MaxColor, 0, 0), false, nil
	case *ExperimenterMPReply:
		return appendExpMP(b, m.Experimenter, m.ExpType, m.Data), false, nil
	}
	// List replies share their entry encoders with MarshalMultipartReply.
	b, ok, err := appendReplyList(b, body)
	if !ok {
		return b, false, fmt.Errorf("ofp: cannot marshal multipart body %T", body)
	}
	return b, false, err
}

// appendList appends every entry of list with appendEntry.
func appendList[T any](b []byte, list []T, appendEntry func([]byte, *T) ([]byte, error)) ([]byte, error) {
	for i := range list {
		var err error
		if b, err = appendEntry(b, &list[i]); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendIDPad appends a 32-bit id and 4 bytes of padding, the body of
// several requests.
func appendIDPad(b []byte, id uint32) []byte {
	b = be.AppendUint32(b, id)
	return append(b, 0, 0, 0, 0)
}

func appendExpMP(b []byte, exp, expType uint32, data []byte) []byte {
	b = be.AppendUint32(b, exp)
	b = be.AppendUint32(b, expType)
	return append(b, data...)
}

// noBody returns a decoder for request bodies that must be empty.
func noBody(newBody func() MultipartBody) func([]byte) (MultipartBody, error) {
	return func(b []byte) (MultipartBody, error) {
		if len(b) != 0 {
			return nil, badLen("multipart request without body", len(b))
		}
		return newBody(), nil
	}
}

// decodeIDPad decodes an (id, pad4) body.
func decodeIDPad(b []byte, what string) (uint32, error) {
	if len(b) != 8 {
		return 0, badLen(what, len(b))
	}
	return be.Uint32(b), nil
}

func decodePortStatsRequest(b []byte) (MultipartBody, error) {
	id, err := decodeIDPad(b, "port stats request")
	if err != nil {
		return nil, err
	}
	return &PortStatsRequest{PortNo: id}, nil
}

func decodeQueueStatsRequest(b []byte) (MultipartBody, error) {
	if len(b) != 8 {
		return nil, badLen("queue stats request", len(b))
	}
	return &QueueStatsRequest{PortNo: be.Uint32(b), QueueID: be.Uint32(b[4:])}, nil
}

func decodeGroupStatsRequest(b []byte) (MultipartBody, error) {
	id, err := decodeIDPad(b, "group stats request")
	if err != nil {
		return nil, err
	}
	return &GroupStatsRequest{GroupID: id}, nil
}

func decodeMeterStatsRequest(b []byte) (MultipartBody, error) {
	id, err := decodeIDPad(b, "meter stats request")
	if err != nil {
		return nil, err
	}
	return &MeterStatsRequest{MeterID: id}, nil
}

func decodeMeterConfigRequest(b []byte) (MultipartBody, error) {
	id, err := decodeIDPad(b, "meter config request")
	if err != nil {
		return nil, err
	}
	return &MeterConfigRequest{MeterID: id}, nil
}

// appendFlowStatsRequest: table_id, pad3, out_port, out_group, pad4,
// cookie, cookie_mask, match.
func appendFlowStatsRequest(b []byte, m *FlowStatsRequest) ([]byte, error) {
	b = append(b, m.TableID, 0, 0, 0)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	return appendMatch(b, &m.Match)
}

func decodeFlowStatsRequestBody(b []byte, what string) (FlowStatsRequest, error) {
	if len(b) < 32+8 {
		return FlowStatsRequest{}, badLen(what, len(b))
	}
	r := FlowStatsRequest{
		TableID:    b[0],
		OutPort:    be.Uint32(b[4:]),
		OutGroup:   be.Uint32(b[8:]),
		Cookie:     be.Uint64(b[16:]),
		CookieMask: be.Uint64(b[24:]),
	}
	match, n, err := DecodeMatch(b[32:])
	if err != nil {
		return FlowStatsRequest{}, err
	}
	if 32+n != len(b) {
		return FlowStatsRequest{}, badLen(what, len(b))
	}
	r.Match = match
	return r, nil
}

func decodeFlowStatsRequest(b []byte) (MultipartBody, error) {
	r, err := decodeFlowStatsRequestBody(b, "flow stats request")
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func decodeAggregateRequest(b []byte) (MultipartBody, error) {
	r, err := decodeFlowStatsRequestBody(b, "aggregate stats request")
	if err != nil {
		return nil, err
	}
	return &AggregateStatsRequest{r}, nil
}

// descLen is the size of struct ofp_desc.
const descLen = 4*256 + 32

func decodeDescReply(b []byte) (MultipartBody, error) {
	if len(b) != descLen {
		return nil, badLen("desc reply", len(b))
	}
	return &DescReply{
		MfrDesc:   cString(b[0:256]),
		HWDesc:    cString(b[256:512]),
		SWDesc:    cString(b[512:768]),
		SerialNum: cString(b[768:800]),
		DPDesc:    cString(b[800:1056]),
	}, nil
}

func decodeAggregateReply(b []byte) (MultipartBody, error) {
	if len(b) != 24 {
		return nil, badLen("aggregate stats reply", len(b))
	}
	return &AggregateStatsReply{
		PacketCount: be.Uint64(b),
		ByteCount:   be.Uint64(b[8:]),
		FlowCount:   be.Uint32(b[16:]),
	}, nil
}

func decodeGroupFeaturesReply(b []byte) (MultipartBody, error) {
	if len(b) != 40 {
		return nil, badLen("group features reply", len(b))
	}
	m := &GroupFeaturesReply{Types: be.Uint32(b), Capabilities: be.Uint32(b[4:])}
	for i := range 4 {
		m.MaxGroups[i] = be.Uint32(b[8+4*i:])
		m.Actions[i] = be.Uint32(b[24+4*i:])
	}
	return m, nil
}

func decodeMeterFeaturesReply(b []byte) (MultipartBody, error) {
	if len(b) != 16 {
		return nil, badLen("meter features reply", len(b))
	}
	return &MeterFeaturesReply{
		MaxMeter:     be.Uint32(b),
		BandTypes:    be.Uint32(b[4:]),
		Capabilities: be.Uint32(b[8:]),
		MaxBands:     b[12],
		MaxColor:     b[13],
	}, nil
}
