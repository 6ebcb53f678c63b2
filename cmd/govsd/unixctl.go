package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
)

// unixctl serves Open vSwitch's unixctl protocol (JSON-RPC 1.0 over a unix
// socket) so that `ovs-appctl -t <rundir>/govsd.ctl COMMAND` and
// `govs COMMAND` work.
//
// Goroutines: one accept loop and one per client connection, owned by the
// server; Close stops them and removes the socket file.
type unixctl struct {
	path string
	l    net.Listener
	log  *logrus.Entry

	mu    sync.Mutex
	cmds  map[string]unixctlCommand // guarded by mu
	conns map[net.Conn]struct{}     // guarded by mu

	wg sync.WaitGroup
}

// unixctlCommand is one command: it gets its arguments and returns the
// text to print or an error.
type unixctlCommand struct {
	usage   string
	minArgs int
	maxArgs int
	fn      func(args []string) (string, error)
}

// jsonrpcRequest and jsonrpcResponse are the unixctl wire messages.
type jsonrpcRequest struct {
	Method string          `json:"method"`
	Params []any           `json:"params"`
	ID     json.RawMessage `json:"id"`
}

type jsonrpcResponse struct {
	Result any             `json:"result"`
	Error  any             `json:"error"`
	ID     json.RawMessage `json:"id"`
}

func newUnixctl(path string, log *logrus.Entry) (*unixctl, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	s := &unixctl{path: path, l: l, log: log, cmds: map[string]unixctlCommand{}, conns: map[net.Conn]struct{}{}}
	s.register("list-commands", "", 0, 0, func([]string) (string, error) { return s.listCommands(), nil })
	s.register("help", "", 0, 0, func([]string) (string, error) { return s.listCommands(), nil })
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// register adds a command.
func (s *unixctl) register(name, usage string, minArgs, maxArgs int, fn func(args []string) (string, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds[name] = unixctlCommand{usage: usage, minArgs: minArgs, maxArgs: maxArgs, fn: fn}
}

func (s *unixctl) listCommands() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.cmds))
	for n := range s.cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("The available commands are:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-24s%s\n", n, s.cmds[n].usage)
	}
	return b.String()
}

func (s *unixctl) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve answers the requests of one client until it disconnects.
func (s *unixctl) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	dec := json.NewDecoder(c)
	enc := json.NewEncoder(c)
	for {
		var req jsonrpcRequest
		if err := dec.Decode(&req); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.WithError(err).Debug("unixctl: bad request")
			}
			return
		}
		result, err := s.call(req.Method, req.Params)
		resp := jsonrpcResponse{ID: req.ID}
		if err != nil {
			resp.Error = err.Error() + "\n"
		} else {
			resp.Result = result
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

// call runs one command.
func (s *unixctl) call(method string, params []any) (string, error) {
	s.mu.Lock()
	cmd, ok := s.cmds[method]
	s.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%q is not a valid command (use list-commands to see a list)", method)
	}
	args := make([]string, len(params))
	for i, p := range params {
		str, ok := p.(string)
		if !ok {
			return "", fmt.Errorf("command %s: argument %d is not a string", method, i+1)
		}
		args[i] = str
	}
	if len(args) < cmd.minArgs {
		return "", fmt.Errorf("%q command requires at least %d arguments", method, cmd.minArgs)
	}
	if len(args) > cmd.maxArgs {
		return "", fmt.Errorf("%q command takes at most %d arguments", method, cmd.maxArgs)
	}
	return cmd.fn(args)
}

// Close stops the server and removes its socket.
func (s *unixctl) Close() {
	s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	os.Remove(s.path)
}
