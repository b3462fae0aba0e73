package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 (its own CA)
// and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redgo test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// --tls against a redis-server with TLS: verified with --cacert, or
// --insecure; without --tls the server drops the connection.
func TestTLS(t *testing.T) {
	bin := need(t, "redis-server")
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	port := freePort(t)
	cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no",
		"--save", "", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitPort(t, port)
	p := strconv.Itoa(port)
	for _, args := range [][]string{
		{"--tls", "--cacert", cert, "-p", p, "PING"},
		{"--tls", "--insecure", "-p", p, "PING"},
		{"-u", "rediss://127.0.0.1:" + p, "--insecure", "ECHO", "over tls"},
	} {
		if r := runOurs(args, ""); r.code != 0 || r.stdout == "" || r.stderr != "" {
			t.Errorf("%q: %v", args, r)
		}
	}
	if r := runOurs([]string{"--tls", "-p", p, "PING"}, ""); r.code == 0 {
		t.Errorf("an unknown CA was accepted: %v", r)
	}
	if r := runOurs([]string{"-p", p, "PING"}, ""); r.code == 0 {
		t.Errorf("plain text to a TLS port: %v", r)
	}
}
