package ofp

import (
	"errors"
	"fmt"
)

// mpMsgHeaderLen is the OpenFlow header plus the multipart header.
const mpMsgHeaderLen = HeaderLen + mpHeaderLen

// MarshalMultipartReply encodes a whole multipart reply as as many
// MULTIPART_REPLY messages as it takes for none to exceed 65535 bytes,
// splitting list bodies (flow stats, port stats, table features, port
// desc, group desc, ...) between entries. Every message but the last has
// MPFlagMore set in addition to r.Flags. A body that is not a list, or fits,
// gives one message. The messages share one backing array.
func MarshalMultipartReply(xid uint32, r *MultipartReply) ([][]byte, error) {
	if r == nil || isNil(r.Body) {
		return nil, errors.New("ofp: multipart reply without a body")
	}
	l, ok := replyList(r.Body)
	if !ok {
		b, err := Marshal(xid, r)
		if err != nil {
			return nil, err
		}
		return [][]byte{b}, nil
	}
	typ := r.Body.MultipartType()
	b := make([]byte, 0, 4096)
	b = appendMPMsgHeader(b, xid, typ, r.Flags)
	starts := []int{0} // where each message starts in b
	entries := 0       // in the current message
	for i := range l.len() {
		mark := len(b)
		var err error
		if b, err = l.appendEntry(b, i); err != nil {
			return nil, err
		}
		if len(b)-starts[len(starts)-1] <= MaxMessageLen {
			entries++
			continue
		}
		n := len(b) - mark
		if entries == 0 || mpMsgHeaderLen+n > MaxMessageLen {
			return nil, fmt.Errorf("ofp: multipart reply entry %d is %d bytes, too long for one message", i, n)
		}
		// Close the current message before the entry and move the
		// entry after a new message header.
		b = append(b, make([]byte, mpMsgHeaderLen)...)
		copy(b[mark+mpMsgHeaderLen:], b[mark:mark+n])
		appendMPMsgHeader(b[:mark], xid, typ, r.Flags) // in place: b has room
		starts = append(starts, mark)
		entries = 1
	}
	msgs := make([][]byte, len(starts))
	for i, s := range starts {
		end := len(b)
		if i+1 < len(starts) {
			end = starts[i+1]
			be.PutUint16(b[s+10:], r.Flags|MPFlagMore)
		}
		be.PutUint16(b[s+2:], uint16(end-s))
		msgs[i] = b[s:end:end]
	}
	return msgs, nil
}

// appendMPMsgHeader appends an OpenFlow header (length left zero) and a
// multipart header.
func appendMPMsgHeader(b []byte, xid uint32, typ MultipartType, flags uint16) []byte {
	b = append(b, Version, uint8(TypeMultipartReply), 0, 0)
	b = be.AppendUint32(b, xid)
	b = be.AppendUint16(b, uint16(typ))
	b = be.AppendUint16(b, flags)
	return append(b, 0, 0, 0, 0)
}
