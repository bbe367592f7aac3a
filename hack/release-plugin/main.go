// Command release-plugin builds the kubectl-rewards release: one archive
// per platform (tar.gz, zip for Windows) holding the binary, LICENSE and,
// outside Windows, the kubectl_complete-rewards script; their sha256 sums;
// and the krew plugin manifest rewards.yaml pointing at the archives' URLs
// with those sums. With -validate it runs krew's own manifest validator,
// with -krew it installs every platform's archive with krew from the
// local file, as `kubectl krew install` would.
//
// make release-plugin runs it. The archives are reproducible: same
// sources, toolchain and SOURCE_DATE_EPOCH (default: the last commit's
// time) give the same bytes, so the sums in the manifest can be checked
// by rebuilding.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The plugin's names: krew's (the manifest's file and metadata.name), the
// executable's, and the completion executable's that kubectl looks for.
const (
	pluginName     = "rewards"
	binaryName     = "kubectl-rewards"
	completionName = "kubectl_complete-rewards"
)

// licenseFile is the license every archive holds: krew's validator wants
// one.
const licenseFile = "LICENSE"

// platform is a GOOS/GOARCH pair the plugin is released for.
type platform struct{ os, arch string }

func (p platform) String() string { return p.os + "/" + p.arch }

// windows is true on Windows: an .exe in a zip, and no shell script.
func (p platform) windows() bool { return p.os == "windows" }

// binary is the executable's name on p.
func (p platform) binary() string {
	if p.windows() {
		return binaryName + ".exe"
	}
	return binaryName
}

// archive is the name of p's archive for version.
func (p platform) archive(version string) string {
	ext := ".tar.gz"
	if p.windows() {
		ext = ".zip"
	}
	return fmt.Sprintf("%s_%s_%s_%s%s", binaryName, version, p.os, p.arch, ext)
}

// config is what a release is made of.
type config struct {
	version   string
	platforms []platform
	// urlPrefix is where the archives are published: the manifest's URIs
	// are urlPrefix/<archive>.
	urlPrefix string
	out       string
	// license and completion are the files the archives hold besides the
	// binary.
	license, completion string
	mtime               time.Time
	// build writes the plugin's binary for a platform to path.
	build func(p platform, path string) error
}

func main() {
	var (
		cfg          config
		platforms    string
		krew, verify string
	)
	flag.StringVar(&cfg.version, "version", "", "the release, vX.Y.Z")
	flag.StringVar(&platforms, "platforms", "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64", "GOOS/GOARCH pairs")
	flag.StringVar(&cfg.urlPrefix, "url", "", "where the archives are published (the manifest's URIs are URL/ARCHIVE)")
	flag.StringVar(&cfg.out, "out", "dist/plugin", "the directory to write")
	flag.StringVar(&cfg.license, "license", licenseFile, "the license file the archives hold")
	flag.StringVar(&cfg.completion, "completion", "cmd/kubectl-rewards/"+completionName, "the completion script the archives hold")
	flag.StringVar(&verify, "validate", "", "krew's validate-krew-manifest, to run on the manifest")
	flag.StringVar(&krew, "krew", "", "krew, to install each platform's archive with")
	flag.Parse()
	log.SetFlags(0)
	var err error
	if cfg.platforms, err = parsePlatforms(platforms); err != nil {
		log.Fatal(err)
	}
	if cfg.version == "" || cfg.urlPrefix == "" {
		log.Fatal("-version and -url are required")
	}
	if cfg.mtime, err = sourceDateEpoch(); err != nil {
		log.Fatal(err)
	}
	cfg.build = goBuild(cfg.version)
	manifest, err := release(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if verify != "" {
		if err := validate(verify, manifest); err != nil {
			log.Fatal(err)
		}
	}
	if krew != "" {
		if err := installEach(krew, manifest, cfg); err != nil {
			log.Fatal(err)
		}
	}
}

func parsePlatforms(s string) ([]platform, error) {
	var out []platform
	for _, f := range strings.Fields(s) {
		goos, arch, ok := strings.Cut(f, "/")
		if !ok || goos == "" || arch == "" {
			return nil, fmt.Errorf("platform %q: want GOOS/GOARCH, like linux/amd64", f)
		}
		out = append(out, platform{goos, arch})
	}
	return out, nil
}

// sourceDateEpoch is the archives' file time: $SOURCE_DATE_EPOCH, else the
// last commit's time (so that the same commit gives the same archives).
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("reading the last commit's time (or set SOURCE_DATE_EPOCH): %w", err)
		}
		v = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", v, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// goBuild builds ./cmd/kubectl-rewards for a platform: static, without
// local paths or debug symbols, with the release's version.
func goBuild(version string) func(platform, string) error {
	return func(p platform, path string) error {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", path, "./cmd/kubectl-rewards")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.os, "GOARCH="+p.arch)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		log.Printf("building %s for %s", binaryName, p)
		return cmd.Run()
	}
}

// release builds and archives every platform into cfg.out, writes the sums
// and the manifest, and returns the manifest's path.
func release(cfg config) (string, error) {
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return "", err
	}
	license, err := os.ReadFile(cfg.license)
	if err != nil {
		return "", err
	}
	completion, err := os.ReadFile(cfg.completion)
	if err != nil {
		return "", err
	}
	sums := map[string]string{}
	for _, p := range cfg.platforms {
		bin := filepath.Join(cfg.out, "build", p.os+"_"+p.arch, p.binary())
		if err := cfg.build(p, bin); err != nil {
			return "", fmt.Errorf("building for %s: %w", p, err)
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return "", err
		}
		files := []archiveFile{{p.binary(), exe, 0o755}, {licenseFile, license, 0o644}}
		if !p.windows() {
			files = append(files, archiveFile{completionName, completion, 0o755})
		}
		data, err := archive(p, files, cfg.mtime)
		if err != nil {
			return "", err
		}
		name := p.archive(cfg.version)
		if err := os.WriteFile(filepath.Join(cfg.out, name), data, 0o644); err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(sum[:])
		log.Printf("%s  %s", sums[name], name)
	}
	if err := os.RemoveAll(filepath.Join(cfg.out, "build")); err != nil {
		return "", err
	}
	if err := writeSums(filepath.Join(cfg.out, fmt.Sprintf("%s_%s_checksums.txt", binaryName, cfg.version)), sums); err != nil {
		return "", err
	}
	manifest, err := yaml.Marshal(krewManifest(cfg, sums))
	if err != nil {
		return "", err
	}
	path := filepath.Join(cfg.out, pluginName+".yaml")
	return path, os.WriteFile(path, manifest, 0o644)
}

// archiveFile is a file of an archive.
type archiveFile struct {
	name string
	data []byte
	mode int64
}

// archive packs files as a zip for Windows, a gzipped tar otherwise, with
// every time set to mtime.
func archive(p platform, files []archiveFile, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if p.windows() {
		zw := zip.NewWriter(&buf)
		for _, f := range files {
			h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
			h.SetMode(os.FileMode(f.mode))
			w, err := zw.CreateHeader(h)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(f.data); err != nil {
				return nil, err
			}
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	gz.ModTime = mtime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSums writes sha256sum's format: "<hex>  <file>", by file name.
func writeSums(path string, sums map[string]string) error {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// The krew manifest's types (sigs.k8s.io/krew/pkg/index), as much of
// them as a manifest states.
type (
	krewPlugin struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Spec       krewSpec          `json:"spec"`
	}
	krewSpec struct {
		Version          string         `json:"version"`
		Homepage         string         `json:"homepage"`
		ShortDescription string         `json:"shortDescription"`
		Description      string         `json:"description"`
		Caveats          string         `json:"caveats"`
		Platforms        []krewPlatform `json:"platforms"`
	}
	krewPlatform struct {
		Selector *metav1.LabelSelector `json:"selector"`
		URI      string                `json:"uri"`
		Sha256   string                `json:"sha256"`
		Files    []krewFile            `json:"files"`
		Bin      string                `json:"bin"`
	}
	krewFile struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
)

// The manifest's texts. krew's validator wants lines of at most 80
// characters (70 for the short description).
const (
	homepage         = "https://github.com/marketplace-rewards/rewards-operator"
	shortDescription = "Explain, simulate, import and audit Marketplace Rewards"
	description      = `kubectl rewards works with the Marketplace Rewards operator. It explains
a publisher's tier and why a benefit activation waits, simulates what a
RewardsProgram change would do (a CI gate), imports billing exports as
SalesRecords by server-side apply without ever clearing a fraud or
cancellation finding someone else recorded, reports the benefits granted,
expired and revoked in a period, and lists the marketing contacts due.
Use the release of the operator running in your cluster: kubectl rewards
version compares them.
`
	caveats = `Shell completion of "kubectl rewards" (kubectl 1.26 and later) needs
kubectl_complete-rewards on your PATH. krew installed it next to the
plugin; copy it once (it calls kubectl-rewards, so it outlives upgrades):
  cp ~/.krew/store/rewards/VERSION/kubectl_complete-rewards ~/.krew/bin/
(with $KREW_ROOT for ~/.krew if you set it). On Windows, copy
kubectl-rewards.exe to kubectl_complete-rewards.exe in the same bin folder.
Check the operator's version against this plugin's: kubectl rewards version
`
)

func krewManifest(cfg config, sums map[string]string) krewPlugin {
	m := krewPlugin{
		APIVersion: "krew.googlecontainertools.github.com/v1alpha2",
		Kind:       "Plugin",
		Metadata:   metav1.ObjectMeta{Name: pluginName},
		Spec: krewSpec{
			Version: cfg.version, Homepage: homepage, ShortDescription: shortDescription, Description: description,
			Caveats: strings.ReplaceAll(caveats, "VERSION", cfg.version),
		},
	}
	for _, p := range cfg.platforms {
		files := []krewFile{{From: p.binary(), To: "."}, {From: licenseFile, To: "."}}
		if !p.windows() {
			files = append(files, krewFile{From: completionName, To: "."})
		}
		m.Spec.Platforms = append(m.Spec.Platforms, krewPlatform{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"os": p.os, "arch": p.arch}},
			URI:      strings.TrimSuffix(cfg.urlPrefix, "/") + "/" + p.archive(cfg.version),
			Sha256:   sums[p.archive(cfg.version)],
			Files:    files,
			Bin:      p.binary(),
		})
	}
	return m
}

// validate runs krew's validator on the manifest: its schema, the plugin
// name against the file name, the platforms' selectors. Its own install
// step downloads the archives from their URIs, which do not exist before
// the release is published; installEach does that from the local files.
func validate(validator, manifest string) error {
	cmd := exec.Command(validator, "-manifest", manifest, "-skip-install")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s -manifest %s: %w\n%s", validator, manifest, err, out)
	}
	if bytes.Contains(out, []byte("exceeds")) { // a line-length warning: krew-index reviewers ask to fix them
		return fmt.Errorf("%s -manifest %s warns:\n%s", validator, manifest, out)
	}
	log.Printf("validate-krew-manifest: %s is valid", manifest)
	return nil
}

// installEach installs every platform's archive with krew into a krew root
// of its own (KREW_OS and KREW_ARCH make krew act as on that platform),
// which checks the archive's sha256 against the manifest and the file
// operations, and then checks the installed files.
func installEach(krew, manifest string, cfg config) error {
	for _, p := range cfg.platforms {
		root, err := os.MkdirTemp("", "krew-root-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(root)
		cmd := exec.Command(krew, "install", "--manifest="+manifest, "--archive="+filepath.Join(cfg.out, p.archive(cfg.version)))
		cmd.Env = append(os.Environ(), "KREW_ROOT="+root, "KREW_OS="+p.os, "KREW_ARCH="+p.arch)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("krew install for %s: %w\n%s", p, err, out)
		}
		dir := filepath.Join(root, "store", pluginName, cfg.version)
		want := []string{p.binary(), licenseFile}
		if !p.windows() {
			want = append(want, completionName)
		}
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				return fmt.Errorf("krew install for %s: %w", p, err)
			}
		}
		log.Printf("krew installs %s for %s", cfg.version, p)
	}
	return nil
}
