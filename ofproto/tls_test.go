package ofproto

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govs/govs/ofproto/ofp"
)

// testCA is a certificate authority for tests, like one of ovs-pki's.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a certificate without host names or extended key usages,
// as ovs-pki does, and returns its PEM certificate and key.
func (ca *testCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func (ca *testCA) tlsCert(t *testing.T, cn string) tls.Certificate {
	c, k := ca.issue(t, cn)
	cert, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// switchSSL writes the switch's files: its certificate from switchCA,
// and ctlCA as the CA that controllers must be signed by.
func switchSSL(t *testing.T, switchCA, ctlCA *testCA) *SSLConfig {
	dir := t.TempDir()
	c, k := switchCA.issue(t, "sc id:test")
	files := &SSLConfig{
		PrivateKey:  filepath.Join(dir, "sc-privkey.pem"),
		Certificate: filepath.Join(dir, "sc-cert.pem"),
		CACert:      filepath.Join(dir, "cacert.pem"),
	}
	os.WriteFile(files.PrivateKey, k, 0o600)
	os.WriteFile(files.Certificate, c, 0o644)
	os.WriteFile(files.CACert, ctlCA.pem, 0o644)
	return files
}

// tlsController listens like a controller with a certificate from ca,
// requiring the switch's certificate from switchCA.
func tlsController(t *testing.T, ca, switchCA *testCA) net.Listener {
	pool := x509.NewCertPool()
	pool.AddCert(switchCA.cert)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{ca.tlsCert(t, "ctl id:test")},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestSSLController(t *testing.T) {
	ctlCA, swCA := newTestCA(t, "controllerca"), newTestCA(t, "switchca")
	l := tlsController(t, ctlCA, swCA)
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) {
		c.SSL = switchSSL(t, swCA, ctlCA)
		c.Controllers = []string{"ssl:" + l.Addr().String()}
	})
	nc := acceptTimeout(t, l)
	c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.send(&ofp.Hello{Version: ofp.Version})
	c.recvType(ofp.TypeHello)
	if fr := c.request(&ofp.FeaturesRequest{}).(*ofp.FeaturesReply); fr.DatapathID != 0x42 {
		t.Fatalf("features %+v", fr)
	}
	show := tb.br.Show()
	if !strings.Contains(show, `Controller "ssl:`+l.Addr().String()+`"`) || !strings.Contains(show, "is_connected: true") {
		t.Errorf("show:\n%s", show)
	}
}

// acceptTimeout accepts one connection and completes the TLS handshake.
func acceptTimeout(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			err = c.(*tls.Conn).Handshake()
			c.SetDeadline(time.Time{})
		}
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(10 * time.Second):
		t.Fatal("the switch did not connect")
	}
	return nil
}

// TestSSLControllerWrongCA: a controller whose certificate is not signed
// by the configured CA is refused, and show says why.
func TestSSLControllerWrongCA(t *testing.T) {
	ctlCA, swCA, wrongCA := newTestCA(t, "controllerca"), newTestCA(t, "switchca"), newTestCA(t, "other")
	l := tlsController(t, wrongCA, swCA)
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) {
		c.SSL = switchSSL(t, swCA, ctlCA)
		c.Controllers = []string{"ssl:" + l.Addr().String()}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	if !waitUntil(10*time.Second, func() bool { return strings.Contains(tb.br.Show(), "unknown authority") }) {
		t.Fatalf("show:\n%s", tb.br.Show())
	}
	if tb.br.conns.controllersUp() != 0 {
		t.Fatal("a controller with a wrong CA is connected")
	}
}

// TestPSSLListener: a client with a certificate from the CA is served; one
// from another CA is refused at the handshake.
func TestPSSLListener(t *testing.T) {
	ctlCA, swCA, wrongCA := newTestCA(t, "controllerca"), newTestCA(t, "switchca"), newTestCA(t, "other")
	port := freeTCPPort(t)
	tb := newTestBridge(t, 1, FailSecure, func(c *Config) {
		c.SSL = switchSSL(t, swCA, ctlCA)
		c.Listen = []string{"pssl:" + port + ":127.0.0.1"}
	})
	roots := x509.NewCertPool()
	roots.AddCert(swCA.cert)
	dial := func(ca *testCA) (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+port, &tls.Config{
			Certificates: []tls.Certificate{ca.tlsCert(t, "ctl")},
			RootCAs:      roots,
			ServerName:   "ignored",
			// ovs-pki certificates name no host: check the chain only.
			InsecureSkipVerify: true,
		})
	}
	nc, err := dial(ctlCA)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &ofClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.send(&ofp.Hello{Version: ofp.Version})
	c.recvType(ofp.TypeHello)
	c.request(&ofp.FeaturesRequest{})

	bad, err := dial(wrongCA)
	if err == nil {
		// TLS 1.3: the client learns of the refusal on its first read.
		bad.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = bad.Read(make([]byte, 1))
		bad.Close()
	}
	if err == nil {
		t.Fatal("a client with a certificate from another CA was served")
	}
	if !waitUntil(5*time.Second, func() bool { return strings.Contains(tb.br.Show(), "unknown authority") }) {
		t.Errorf("show:\n%s", tb.br.Show())
	}
}

func freeTCPPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func TestCheckSSLErrors(t *testing.T) {
	ca := newTestCA(t, "ca")
	good := switchSSL(t, ca, ca)
	bad := *good
	bad.PrivateKey = "/nonexistent"
	var fe *SSLFileError
	if err := CheckSSL(bad); err == nil || !asSSLErr(err, &fe) || fe.Key != "private_key" {
		t.Errorf("missing key: %v", err)
	}
	bad = *good
	bad.CACert = good.PrivateKey // a key is no certificate
	if err := CheckSSL(bad); err == nil || !asSSLErr(err, &fe) || fe.Key != "ca_cert" {
		t.Errorf("bad CA file: %v", err)
	}
	other := switchSSL(t, ca, ca)
	bad = *good
	bad.PrivateKey = other.PrivateKey // does not match the certificate
	if err := CheckSSL(bad); err == nil || !asSSLErr(err, &fe) || fe.Key != "private_key" {
		t.Errorf("mismatched key: %v", err)
	}
	if err := CheckSSL(*good); err != nil {
		t.Error(err)
	}
}

func asSSLErr(err error, fe **SSLFileError) bool {
	e, ok := err.(*SSLFileError)
	*fe = e
	return ok
}
