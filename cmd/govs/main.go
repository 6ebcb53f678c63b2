// Command govs is govs' command-line tool. It sends commands to a running
// govsd over its control socket (the protocol ovs-appctl speaks):
//
//	govs [-t SOCKET] COMMAND [ARG...]
//
// e.g. `govs dpctl/show`, `govs fdb/show br0`, `govs show`, `govs version`,
// `govs list-commands`, `govs ofproto/trace br0 in_port=1,tcp`. The socket
// defaults to $GOVS_RUNDIR/govsd.ctl, or /run/govs/govsd.ctl.
//
// `govs ofctl COMMAND SWITCH [ARG...]` speaks OpenFlow 1.3 to a bridge
// instead, with ovs-ofctl's commands, syntax and output (see ofctl.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	fs := flag.NewFlagSet("govs", flag.ContinueOnError)
	rundir := os.Getenv("GOVS_RUNDIR")
	if rundir == "" {
		rundir = "/run/govs"
	}
	target := fs.String("t", filepath.Join(rundir, "govsd.ctl"), "govsd control `socket`")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: govs [-t SOCKET] COMMAND [ARG...]\n"+
			"       govs ofctl [OPTIONS] COMMAND SWITCH [ARG...]\n"+
			"Sends COMMAND to govsd; `govs list-commands` lists them.\n"+
			"`govs ofctl --help` lists the OpenFlow commands (ovs-ofctl's).\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if fs.Arg(0) == "ofctl" {
		return runOfctl(fs.Args()[1:], rundir, os.Stdout, os.Stderr)
	}
	result, err := call(*target, fs.Arg(0), fs.Args()[1:], *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "govs: %v\n", err)
		return 2
	}
	fmt.Print(result)
	return 0
}

// call sends one unixctl request and returns the result text.
func call(socket, method string, params []string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return "", fmt.Errorf("cannot connect to govsd at %s: %w", socket, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if params == nil {
		params = []string{}
	}
	req := map[string]any{"method": method, "params": params, "id": 0}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return "", err
	}
	var resp struct {
		Result *string `json:"result"`
		Error  any     `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return "", fmt.Errorf("reading the reply: %w", err)
	}
	if resp.Error != nil {
		return "", fmt.Errorf("%v", resp.Error)
	}
	if resp.Result == nil {
		return "", nil
	}
	return *resp.Result, nil
}
