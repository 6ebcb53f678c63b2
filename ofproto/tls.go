package ofproto

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// SSLConfig names the PEM files of the switch's TLS identity, as Open
// vSwitch's SSL table does: its private key, its certificate, and the CA
// certificate(s) that a peer's certificate must be signed by. With
// ovs-pki, a switch uses sc-privkey.pem, sc-cert.pem and
// controllerca/cacert.pem.
type SSLConfig struct {
	PrivateKey  string
	Certificate string
	CACert      string
}

// SSLFileError says which of the SSL files could not be used. Key is
// "private_key", "certificate" or "ca_cert".
type SSLFileError struct {
	Key  string
	Path string
	Err  error
}

func (e *SSLFileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *SSLFileError) Unwrap() error { return e.Err }

// tlsIdentity is a loaded SSLConfig.
type tlsIdentity struct {
	files SSLConfig
	cert  tls.Certificate
	roots *x509.CertPool
}

// CheckSSL reads and checks the files of c: the key must match the
// certificate and the CA file must hold at least one certificate. Errors
// are *SSLFileError.
func CheckSSL(c SSLConfig) error {
	_, err := loadSSL(c)
	return err
}

// loadSSL is CheckSSL, keeping what it loaded.
func loadSSL(c SSLConfig) (*tlsIdentity, error) {
	certPEM, err := os.ReadFile(c.Certificate)
	if err != nil {
		return nil, &SSLFileError{"certificate", c.Certificate, err}
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return nil, &SSLFileError{"certificate", c.Certificate, errors.New("no PEM certificate in the file")}
	}
	keyPEM, err := os.ReadFile(c.PrivateKey)
	if err != nil {
		return nil, &SSLFileError{"private_key", c.PrivateKey, err}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &SSLFileError{"private_key", c.PrivateKey, fmt.Errorf("with certificate %s: %w", c.Certificate, err)}
	}
	caPEM, err := os.ReadFile(c.CACert)
	if err != nil {
		return nil, &SSLFileError{"ca_cert", c.CACert, err}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, &SSLFileError{"ca_cert", c.CACert, errors.New("no PEM certificate in the file")}
	}
	return &tlsIdentity{files: c, cert: cert, roots: roots}, nil
}

// verifyPeer checks the peer's certificate chain against the CA
// certificates. As in Open vSwitch, the peer's name is not checked (ovs-pki
// certificates name a switch or controller id, not a host): being signed by
// the configured CA is what authorizes it.
func (id *tlsIdentity) verifyPeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         id.roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("peer certificate %q: %w", cs.PeerCertificates[0].Subject.CommonName, err)
	}
	return nil
}

// clientConfig is the TLS configuration of an active (ssl:) connection.
func (id *tlsIdentity) clientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		Certificates:       []tls.Certificate{id.cert},
		InsecureSkipVerify: true, // verifyPeer checks the chain, without a host name
		VerifyConnection:   id.verifyPeer,
	}
}

// serverConfig is the TLS configuration of a passive (pssl:) listener:
// peers must present a certificate signed by the CA.
func (id *tlsIdentity) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		Certificates:     []tls.Certificate{id.cert},
		ClientAuth:       tls.RequireAnyClientCert, // verifyPeer checks it
		VerifyConnection: id.verifyPeer,
	}
}
