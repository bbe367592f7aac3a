package release

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

// The name the chart's Certificate and ServiceMonitor give the metrics
// endpoint (metrics.tls).
const metricsServerName = "rewards-operator-controller-manager-metrics-service." + operatorNS + ".svc"

var _ = Describe("The metrics endpoint's certificate (metrics.tls)", Ordered, func() {
	var (
		caPool     *x509.CertPool
		metricsURL string
	)

	BeforeAll(func() {
		By("issuing a certificate for the metrics Service from a CA of the test's own")
		ca, caKey := newCA()
		caPool = x509.NewCertPool()
		caPool.AddCert(ca)
		// Where the chart mounts the Secret: controller-runtime's metrics
		// server reads <TMPDIR>/k8s-metrics-server/serving-certs.
		tmp := GinkgoT().TempDir()
		certDir := filepath.Join(tmp, "k8s-metrics-server", "serving-certs")
		Expect(os.MkdirAll(certDir, 0o700)).To(Succeed())
		writeServingCert(certDir, ca, caKey, metricsServerName)

		By("running the manager binary with TMPDIR there, as the image's /tmp")
		env, _, _, err := testenv.Start(scheme)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		kubeconfig, err := testenv.AdminKubeconfig(env, "admin", GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		bin := filepath.Join(GinkgoT().TempDir(), "manager")
		build := exec.Command("go", "build", "-o", bin, "./cmd")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		addr, probes := testenv.FreeAddr(), testenv.FreeAddr()
		metricsURL = "https://" + addr + "/metrics"
		mgr := exec.Command(bin, "--leader-elect=false", "--metrics-bind-address="+addr, "--health-probe-bind-address="+probes)
		mgr.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "TMPDIR="+tmp)
		mgr.Stdout, mgr.Stderr = GinkgoWriter, GinkgoWriter
		Expect(mgr.Start()).To(Succeed())
		DeferCleanup(func() {
			_ = mgr.Process.Kill()
			_ = mgr.Wait()
		})
		Eventually(func() error {
			resp, err := http.Get("http://" + probes + "/readyz")
			if err == nil {
				_ = resp.Body.Close()
			}
			return err
		}).WithTimeout(2 * time.Minute).Should(Succeed())
	})

	It("serves the mounted certificate, which verifies against its CA for the Service's name (the ServiceMonitor's tlsConfig)", func() {
		client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: caPool, ServerName: metricsServerName, MinVersion: tls.VersionTLS12}}}
		var resp *http.Response
		Eventually(func() (err error) {
			resp, err = client.Get(metricsURL)
			return err
		}).Should(Succeed())
		defer func() { _ = resp.Body.Close() }()
		Expect(resp.TLS.PeerCertificates[0].DNSNames).To(ContainElement(metricsServerName))
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "and it still wants a token")
	})

	It("fails verification against another CA, so the check above can fail", func() {
		other, _ := newCA()
		pool := x509.NewCertPool()
		pool.AddCert(other)
		client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: metricsServerName, MinVersion: tls.VersionTLS12}}}
		_, err := client.Get(metricsURL)
		Expect(err).To(MatchError(ContainSubstring("certificate signed by unknown authority")))
	})
})

func newCA() (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	cert, err := x509.ParseCertificate(der)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return cert, key
}

// writeServingCert writes tls.crt and tls.key for dnsName, signed by ca,
// into dir: the keys of a kubernetes.io/tls Secret.
func writeServingCert(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, dnsName string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: dnsName},
		DNSNames:     []string{dnsName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	keyDER, err := x509.MarshalECPrivateKey(key)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)).To(Succeed())
	ExpectWithOffset(1, os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)).To(Succeed())
}
