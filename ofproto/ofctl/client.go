package ofctl

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// Client is the controller side of an OpenFlow 1.3 connection for one
// tool command, as ovs-ofctl opens one: HELLO, then requests, each
// answered by its replies (a multipart reply in as many parts as the
// switch sends), and barriers that collect the errors of the messages sent
// before them. It is not safe for concurrent use.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	xid     uint32
	timeout time.Duration
}

// Target turns a switch name as ovs-ofctl takes it into a network and
// address: "br0" is the bridge's management socket unix:<rundir>/br0.mgmt,
// "unix:PATH" a socket, "tcp:HOST[:PORT]" a TCP listener (port 6653 by
// default).
func Target(name, rundir string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(name, "unix:"):
		return "unix", name[len("unix:"):], nil
	case strings.HasPrefix(name, "tcp:"):
		hp := name[len("tcp:"):]
		if _, _, err := net.SplitHostPort(hp); err != nil {
			hp = net.JoinHostPort(strings.Trim(hp, "[]"), "6653")
		}
		return "tcp", hp, nil
	case strings.HasPrefix(name, "ssl:"):
		return "", "", fmt.Errorf("%s: ssl targets are not supported (use ovs-ofctl, or a unix: or tcp: target)", name)
	case strings.ContainsAny(name, ":/"):
		return "", "", fmt.Errorf("%s: expected a bridge name, unix:PATH or tcp:HOST[:PORT]", name)
	}
	return "unix", filepath.Join(rundir, name+".mgmt"), nil
}

// Dial connects to a switch (see Target) and exchanges HELLOs; the switch
// must speak OpenFlow 1.3. Every later read or write must finish within
// timeout.
func Dial(target, rundir string, timeout time.Duration) (*Client, error) {
	network, addr, err := Target(target, rundir)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: connecting: %w", target, err)
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	if err := c.hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) hello() error {
	if _, err := c.send(&ofp.Hello{Version: ofp.Version, Bitmaps: []uint32{1 << ofp.Version}}); err != nil {
		return err
	}
	b, err := c.read()
	if err != nil {
		return fmt.Errorf("waiting for HELLO: %w", err)
	}
	h, m, err := ofp.Decode(b)
	if err != nil && h.Type != ofp.TypeHello {
		return fmt.Errorf("waiting for HELLO: %w", err)
	}
	if em, ok := m.(*ofp.ErrorMsg); ok {
		return &SwitchError{Msg: b, Err: em}
	}
	hello, ok := m.(*ofp.Hello)
	if !ok {
		return fmt.Errorf("expected HELLO, got message type %d", h.Type)
	}
	speaks13 := h.Version >= ofp.Version
	if len(hello.Bitmaps) > 0 {
		speaks13 = hello.Bitmaps[0]&(1<<ofp.Version) != 0
	}
	if !speaks13 {
		return fmt.Errorf("the switch does not speak OpenFlow 1.3 (HELLO version 0x%02x)", h.Version)
	}
	return nil
}

// send writes one message with the next xid (the first request after
// HELLO gets xid 2, as with ovs-ofctl) and returns the xid.
func (c *Client) send(m ofp.Message) (uint32, error) {
	c.xid++
	b, err := ofp.Marshal(c.xid, m)
	if err != nil {
		return 0, err
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(b); err != nil {
		return 0, err
	}
	return c.xid, nil
}

// read returns the next message, answering echo requests on the way.
func (c *Client) read() ([]byte, error) {
	for {
		c.conn.SetReadDeadline(time.Now().Add(c.timeout))
		b, err := ofp.ReadMessage(c.r, nil)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			return nil, fmt.Errorf("reading from the switch: %w", err)
		}
		if ofp.MsgType(b[1]) == ofp.TypeEchoRequest {
			reply := append([]byte(nil), b...)
			reply[1] = byte(ofp.TypeEchoReply)
			c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
			if _, err := c.conn.Write(reply); err != nil {
				return nil, err
			}
			continue
		}
		return b, nil
	}
}

// SwitchError is an OFPT_ERROR the switch sent in reply to a message.
type SwitchError struct {
	Msg []byte // the whole ERROR message
	Err *ofp.ErrorMsg
}

// Error prints the error as ovs-ofctl does: the ERROR and the offending
// message it carries, e.g. "OFPT_ERROR (OF1.3) (xid=0x2):
// OFPBAC_BAD_OUT_GROUP" and the FLOW_MOD.
func (e *SwitchError) Error() string { return strings.TrimRight(FormatMessage(e.Msg), "\n") }

func xidOf(b []byte) uint32 { return binary.BigEndian.Uint32(b[4:]) }

// Transact sends a request and returns its replies (raw messages, header
// included): the one reply, or every part of a multipart reply up to the
// last (the one without REPLY_MORE). An ERROR in reply is a *SwitchError.
func (c *Client) Transact(m ofp.Message) ([][]byte, error) {
	xid, err := c.send(m)
	if err != nil {
		return nil, err
	}
	var replies [][]byte
	for {
		b, err := c.read()
		if err != nil {
			return replies, err
		}
		if xidOf(b) != xid {
			continue // asynchronous messages (port status, ...)
		}
		_, dm, derr := ofp.Decode(b)
		if em, ok := dm.(*ofp.ErrorMsg); ok {
			return replies, &SwitchError{Msg: b, Err: em}
		}
		replies = append(replies, b)
		if derr != nil {
			return replies, nil // printed with its decode error
		}
		if mp, ok := dm.(*ofp.MultipartReply); ok && mp.Flags&ofp.MPFlagMore != 0 {
			continue
		}
		return replies, nil
	}
}

// SendAll sends messages that have no reply (flow, group and meter
// modifications) followed by a barrier, and returns the errors the switch
// sent for them, in order (nil if none).
func (c *Client) SendAll(msgs []ofp.Message) ([]*SwitchError, error) {
	first := c.xid + 1
	for _, m := range msgs {
		if _, err := c.send(m); err != nil {
			return nil, err
		}
	}
	bx, err := c.send(&ofp.BarrierRequest{})
	if err != nil {
		return nil, err
	}
	var errs []*SwitchError
	for {
		b, err := c.read()
		if err != nil {
			return errs, err
		}
		x := xidOf(b)
		if x == bx && ofp.MsgType(b[1]) == ofp.TypeBarrierReply {
			return errs, nil
		}
		if x < first || x > bx || ofp.MsgType(b[1]) != ofp.TypeError {
			continue
		}
		_, dm, _ := ofp.Decode(b)
		if em, ok := dm.(*ofp.ErrorMsg); ok {
			errs = append(errs, &SwitchError{Msg: b, Err: em})
		}
	}
}

// ParsePort parses a port number or name as ovs-ofctl does (1, LOCAL,
// CONTROLLER, 65534, ...).
func ParsePort(s string) (uint32, error) { return parsePort(s) }

// FormatTableFeatures prints table features as ovs-ofctl's
// dump-table-features does: every table of every reply part as one list,
// tables equal to the one before as "ditto".
func FormatTableFeatures(list []ofp.TableFeatures) string {
	s := strings.TrimPrefix(formatTableFeatures(list), "\n")
	if s != "" {
		s += "\n"
	}
	return s
}
