package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a directory made by ovs-pki: a controller CA and a switch CA, a
// controller certificate (ctl-*) and a switch certificate (sc-*).
type pki struct{ dir string }

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }

func newPKI(t *testing.T) pki {
	t.Helper()
	if _, err := exec.LookPath("ovs-pki"); err != nil {
		t.Skip("ovs-pki not installed (Debian openvswitch-common)")
	}
	p := pki{dir: t.TempDir()}
	for _, args := range [][]string{
		{"--dir=" + p.path("pki"), "init"},
		{"--dir=" + p.path("pki"), "req+sign", "ctl", "controller"},
		{"--dir=" + p.path("pki"), "req+sign", "sc", "switch"},
	} {
		cmd := exec.Command("ovs-pki", args...)
		cmd.Dir = p.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ovs-pki %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return p
}

// sslTop is the [ssl] table of a switch with certificates from p.
func (p pki) sslTop() string {
	return fmt.Sprintf("[ssl]\nprivate_key = %q\ncertificate = %q\nca_cert = %q\n",
		p.path("sc-privkey.pem"), p.path("sc-cert.pem"), p.path("pki/controllerca/cacert.pem"))
}

// TestTLSOSKen: os-ken listens with SSL and a certificate from ovs-pki; the
// switch connects with ssl:, each verifying the other against its CA, and
// the controller drives the switch. ovs-ofctl reaches a pssl: listener
// with the controller's certificate.
func TestTLSOSKen(t *testing.T) {
	p := newPKI(t)
	port := freePort(t)
	startOsken(t, port, "--ofp-ssl-listen-port", fmt.Sprint(port),
		"--ctl-privkey", p.path("ctl-privkey.pem"), "--ctl-cert", p.path("ctl-cert.pem"),
		"--ca-certs", p.path("pki/switchca/cacert.pem"))
	lport := freePort(t)
	target := fmt.Sprintf("ssl:127.0.0.1:%d", port)
	s := startSwitchTop(t, opsOpts{top: p.sslTop(), switchOpts: switchOpts{hosts: 2, failMode: "secure",
		controllers: []string{target}, extra: fmt.Sprintf("listen = [\"pssl:%d:127.0.0.1\"]\n", lport)}})
	if !waitFor(60*time.Second, func() bool { return strings.Contains(s.ofctl("dump-flows"), "CONTROLLER") }) {
		t.Fatalf("the controller's table-miss entry never appeared over TLS:\n%s\n%s", s.ofctl("dump-flows"), show(s))
	}
	s.mustPing(0, 1)
	waitShow(t, s, 5*time.Second, `Controller "`+target+`"`, "is_connected: true")

	out, err := exec.Command("ovs-ofctl", "-O", "OpenFlow13",
		"--private-key="+p.path("ctl-privkey.pem"), "--certificate="+p.path("ctl-cert.pem"),
		"--ca-cert="+p.path("pki/switchca/cacert.pem"),
		"dump-flows", fmt.Sprintf("ssl:127.0.0.1:%d", lport)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "actions=CONTROLLER:65535") {
		t.Errorf("ovs-ofctl over pssl: %v\n%s", err, out)
	}
}

// TestTLSWrongCA: a controller whose certificate comes from another
// ovs-pki is refused; the switch never speaks OpenFlow to it and says why
// in govs show. ovs-ofctl with the wrong certificate is refused by pssl:.
func TestTLSWrongCA(t *testing.T) {
	good, bad := newPKI(t), newPKI(t)
	cert, err := tls.LoadX509KeyPair(bad.path("ctl-cert.pem"), bad.path("ctl-privkey.pem"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	spoke := make(chan bool, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				n, _ := c.Read(make([]byte, 8)) // a HELLO would come first
				spoke <- n > 0
			}(c)
		}
	}()
	lport := freePort(t)
	target := "ssl:" + l.Addr().String()
	s := startSwitchTop(t, opsOpts{top: good.sslTop(), switchOpts: switchOpts{hosts: 1, failMode: "secure",
		controllers: []string{target}, extra: fmt.Sprintf("listen = [\"pssl:%d:127.0.0.1\"]\n", lport)}})
	waitShow(t, s, 20*time.Second, "state: BACKOFF", "certificate signed by unknown authority")
	if !strings.Contains(s.log.String(), "unknown authority") {
		t.Errorf("the refusal is not logged:\n%s", s.log.String())
	}
	select {
	case ok := <-spoke:
		if ok {
			t.Error("the switch sent OpenFlow to a controller with a wrong certificate")
		}
	default:
	}

	out, err := exec.Command("ovs-ofctl", "-O", "OpenFlow13", "-t", "5",
		"--private-key="+bad.path("ctl-privkey.pem"), "--certificate="+bad.path("ctl-cert.pem"),
		"--ca-cert="+good.path("pki/switchca/cacert.pem"),
		"show", fmt.Sprintf("ssl:127.0.0.1:%d", lport)).CombinedOutput()
	if err == nil {
		t.Errorf("ovs-ofctl with a certificate from another CA was served:\n%s", out)
	}
	waitShow(t, s, 10*time.Second, fmt.Sprintf(`Listener "pssl:%d:127.0.0.1"`, lport), "unknown authority")
}
