// Package upgrade proves that upgrading the operator keeps every record: it
// installs the previous version, built from the git history, runs its
// manager on a workload with activations in every phase (Active, Expired,
// Revoked for each reason, Pending), upgrades to this tree the way each
// install path does (kubectl server-side apply of dist/install.yaml, helm
// upgrade of the chart), runs this tree's manager, and compares every
// phase, instant, revocation, publisher history and grant: no difference,
// and no second Activated Event.
//
// The previous version is UPGRADE_FROM (the Makefile sets it: the last
// release's tag, or until one exists the commit that introduced
// BenefitGrant). A version without the Helm chart cannot be installed with
// helm: the Helm path then starts from the first commit after it that ships
// the chart.
package upgrade

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/marketplace-rewards/rewards-operator/internal/testenv"
)

var (
	root       string // repository root
	kubectlBin string
	helmBin    string
	helmHome   string
	bg         = context.Background()

	// current is this tree; previous the version kubectl upgrades from,
	// previousChart the one helm upgrades from.
	current, previous, previousChart *version
)

func TestUpgrade(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Upgrade suite (previous version to this tree, with kubectl and with helm)")
}

var _ = BeforeSuite(func() {
	// Envtest API servers on a loaded CI machine: wait long enough.
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	logf.SetLogger(testenv.Logger(GinkgoWriter))

	var err error
	root, err = testenv.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	kubectlBin, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())
	helmBin = os.Getenv("HELM")
	Expect(helmBin).NotTo(BeEmpty(), "HELM is not set: run through `make test` or `make test-upgrade`, which build helm into bin/ and set it")
	helmHome = GinkgoT().TempDir()

	from := os.Getenv("UPGRADE_FROM")
	Expect(from).NotTo(BeEmpty(), "UPGRADE_FROM is not set: run through `make test` or `make test-upgrade`, which set it to the previous release")
	_, _, err = git("cat-file", "-e", from+"^{commit}")
	Expect(err).NotTo(HaveOccurred(), "UPGRADE_FROM=%s is not a commit of this clone: the upgrade test builds the previous version "+
		"from the git history (a shallow clone lacks it: git fetch --unshallow)", from)

	By("building this tree's manager")
	current = &version{ref: "HEAD", dir: root}
	current.buildManager()

	By("building the previous version " + from + " from the git history")
	previous = checkout(from)
	previous.buildManager()

	chartRef := from
	if !previous.hasChart() {
		chartRef = firstDescendantWith(from, "charts/rewards-operator/Chart.yaml")
		By(fmt.Sprintf("%s has no Helm chart: the Helm path upgrades from %s, the first commit after it that ships one", from, chartRef))
	}
	if chartRef == from {
		previousChart = previous
	} else {
		previousChart = checkout(chartRef)
		previousChart.buildManager()
	}
})

// firstDescendantWith returns the oldest commit that descends from ref
// (so has all of it: the history has merges) and holds path.
func firstDescendantWith(ref, path string) string {
	revs, errOut, err := git("rev-list", "--reverse", "--ancestry-path", ref+"..HEAD")
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	for _, rev := range strings.Fields(revs) {
		if _, _, err := git("cat-file", "-e", rev+":"+path); err == nil {
			return rev[:12]
		}
	}
	Fail(fmt.Sprintf("no commit after %s holds %s", ref, path), 1)
	return ""
}

// version is a tree of the operator: this one, or a previous one
// extracted from git.
type version struct {
	ref     string
	dir     string
	manager string // the manager binary built from dir
}

// checkout extracts the tree of ref into a temporary directory (git
// archive: the repository and its worktrees are left as they are).
func checkout(ref string) *version {
	dir := GinkgoT().TempDir()
	archive := exec.Command("git", "archive", "--format=tar", ref)
	archive.Dir = root
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, untar.Stderr = &stderr, &stderr
	Expect(untar.Start()).To(Succeed())
	Expect(archive.Run()).To(Succeed(), stderr.String())
	Expect(untar.Wait()).To(Succeed(), stderr.String())
	return &version{ref: ref, dir: dir}
}

func (v *version) buildManager() {
	v.manager = filepath.Join(GinkgoT().TempDir(), "manager")
	build := exec.Command("go", "build", "-o", v.manager, "./cmd")
	build.Dir = v.dir
	out, err := build.CombinedOutput()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "building the manager of %s:\n%s", v.ref, out)
}

func (v *version) hasChart() bool {
	_, err := os.Stat(filepath.Join(v.dir, "charts", "rewards-operator", "Chart.yaml"))
	return err == nil
}

// installManifest returns what the version installs with kubectl: its
// dist/install.yaml, or, in a version from before it existed, its
// config/default rendered by the pinned kubectl (which its README applied
// with `kubectl apply -k`).
func (v *version) installManifest() string {
	if data, err := os.ReadFile(filepath.Join(v.dir, "dist", "install.yaml")); err == nil {
		return string(data)
	}
	out, errOut, err := run(nil, "", kubectlBin, "kustomize", filepath.Join(v.dir, "config", "default"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), errOut)
	return out
}

func (v *version) path(elem ...string) string {
	return filepath.Join(append([]string{v.dir}, elem...)...)
}

func git(args ...string) (string, string, error) {
	return run(nil, "", "git", args...)
}

// run runs a program in the repository root and returns its stdout,
// stderr and error; what it printed goes to the test's log.
func run(env []string, stdin string, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(bg, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+helmHome, "HELM_CONFIG_HOME="+helmHome, "HELM_DATA_HOME="+helmHome)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	out := stdout.String()
	if len(out) > 2000 {
		out = out[:2000] + fmt.Sprintf("... [%d more bytes]\n", len(out)-2000)
	}
	fmt.Fprintf(GinkgoWriter, "$ %s %s\n%s%s", filepath.Base(name), strings.Join(args, " "), out, stderr.String())
	return stdout.String(), stderr.String(), err
}
