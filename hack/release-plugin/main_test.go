package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// testRelease is a release of every platform with a stub for the binary
// (the archives, sums and manifest are under test, not the build).
func testRelease(t *testing.T, out string) config {
	t.Helper()
	platforms, err := parsePlatforms("linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64")
	if err != nil {
		t.Fatal(err)
	}
	return config{
		version: "v1.2.3", platforms: platforms, urlPrefix: "https://example.com/releases/download/v1.2.3/", out: out,
		license: "../../LICENSE", completion: "../../cmd/kubectl-rewards/" + completionName,
		mtime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		build: func(p platform, path string) error {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			return os.WriteFile(path, []byte("#!/bin/sh\necho "+p.String()+"\n"), 0o755)
		},
	}
}

// archiveEntries lists an archive's files as "name mode".
func archiveEntries(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			out = append(out, fmt.Sprintf("%s %v", f.Name, f.Mode()))
		}
		return out
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %v", h.Name, h.FileInfo().Mode()))
	}
}

// checkPlatform checks a platform of the manifest against its archive in
// out: URI, sha256 and files; it returns the archive's line of the sums.
func checkPlatform(t *testing.T, out string, p krewPlatform) string {
	t.Helper()
	goos, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
	name := fmt.Sprintf("kubectl-rewards_v1.2.3_%s_%s", goos, arch)
	wantEntries := []string{"kubectl-rewards -rwxr-xr-x", "LICENSE -rw-r--r--", "kubectl_complete-rewards -rwxr-xr-x"}
	if goos == "windows" {
		name += ".zip"
		wantEntries = []string{"kubectl-rewards.exe -rwxr-xr-x", "LICENSE -rw-r--r--"}
	} else {
		name += ".tar.gz"
	}
	if want := "https://example.com/releases/download/v1.2.3/" + name; p.URI != want {
		t.Errorf("%s/%s: uri %q, want %q", goos, arch, p.URI, want)
	}
	archive, err := os.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	if hex.EncodeToString(sum[:]) != p.Sha256 {
		t.Errorf("%s: the manifest's sha256 %s is not the archive's %x", name, p.Sha256, sum)
	}
	if diff := cmp.Diff(wantEntries, archiveEntries(t, filepath.Join(out, name))); diff != "" {
		t.Errorf("%s: files -want, +got:\n%s", name, diff)
	}
	return p.Sha256 + "  " + name
}

func TestRelease(t *testing.T) {
	out := t.TempDir()
	cfg := testRelease(t, out)
	manifest, err := release(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var m krewPlugin
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Metadata.Name != "rewards" || m.Spec.Version != "v1.2.3" || len(m.Spec.Platforms) != 6 {
		t.Fatalf("manifest %s: name %q, version %q, %d platforms", manifest, m.Metadata.Name, m.Spec.Version, len(m.Spec.Platforms))
	}
	sums := make([]string, 0, len(m.Spec.Platforms))
	for _, p := range m.Spec.Platforms {
		sums = append(sums, checkPlatform(t, out, p))
	}
	gotSums, err := os.ReadFile(filepath.Join(out, "kubectl-rewards_v1.2.3_checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i][66:] < sums[j][66:] })
	if diff := cmp.Diff(strings.Join(sums, "\n")+"\n", string(gotSums)); diff != "" {
		t.Errorf("checksums file -want, +got:\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(out, "build")); !os.IsNotExist(err) {
		t.Errorf("the build directory is left in %s", out)
	}

	// Reproducible: the same inputs give the same bytes.
	again := testRelease(t, t.TempDir())
	if _, err := release(again); err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.platforms {
		a, _ := os.ReadFile(filepath.Join(out, p.archive(cfg.version)))
		b, _ := os.ReadFile(filepath.Join(again.out, p.archive(cfg.version)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two releases of the same inputs", p.archive(cfg.version))
		}
	}
}

// TestKrewAcceptsTheRelease runs krew's validator on the manifest and
// installs every platform's archive with krew, from the local files; a
// manifest whose sum does not match its archive is refused.
func TestKrewAcceptsTheRelease(t *testing.T) {
	krew, validator := os.Getenv("KREW"), os.Getenv("KREW_VALIDATE")
	if krew == "" || validator == "" {
		t.Fatal("KREW and KREW_VALIDATE are not set: run through make test, which builds krew and its validator into bin/")
	}
	cfg := testRelease(t, t.TempDir())
	manifest, err := release(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(validator, manifest); err != nil {
		t.Fatal(err)
	}
	if err := installEach(krew, manifest, cfg); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m krewPlugin
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m.Spec.Platforms[0].Sha256 = strings.Repeat("0", 64)
	tampered, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.platforms = cfg.platforms[:1]
	if err := installEach(krew, manifest, cfg); err == nil || !strings.Contains(err.Error(), "checksum does not match") {
		t.Errorf("krew installed an archive whose sum is not the manifest's: %v", err)
	}
}
