package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The changelog and the release notes", func() {
	It("has one section per version and each entry once", func() {
		data, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
		Expect(err).NotTo(HaveOccurred())
		headings := regexp.MustCompile(`(?m)^## \[([^]]+)\](.*)$`).FindAllStringSubmatch(string(data), -1)
		Expect(headings).NotTo(BeEmpty())
		seen := map[string]bool{}
		for _, h := range headings {
			Expect(seen).NotTo(HaveKey(h[1]), "two sections for %s", h[1])
			seen[h[1]] = true
			if h[1] != "Unreleased" {
				Expect(h[2]).To(MatchRegexp(`^ - \d{4}-\d{2}-\d{2}$`), "a released version is dated: %s", h[0])
			}
		}
		entries := map[string]bool{}
		for _, e := range changelogEntries(string(data)) {
			Expect(entries).NotTo(HaveKey(e), "an entry twice: %s", e)
			entries[e] = true
		}
	})

	It("says Unreleased in the README while no version is tagged", func() {
		tags, err := exec.Command("git", "-C", root, "tag", "--list", "v*").Output()
		Expect(err).NotTo(HaveOccurred())
		if len(strings.TrimSpace(string(tags))) > 0 {
			Skip("a version is tagged: " + strings.Fields(string(tags))[0])
		}
		readme, err := os.ReadFile(filepath.Join(root, "README.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(readme)).To(ContainSubstring("**Unreleased.** No version has been tagged yet"))
	})

	It("takes the release notes from the version's dated section, and refuses a version without one", func() {
		changelog := filepath.Join(GinkgoT().TempDir(), "CHANGELOG.md")
		Expect(os.WriteFile(changelog, []byte(`# Changelog

## [Unreleased]

- next

## [0.2.0] - 2027-01-05

### Added

- two

## [0.1.0] - 2026-12-01

- one

[0.2.0]: https://example.com/0.2.0
`), 0o600)).To(Succeed())
		notes := func(version string) (string, error) {
			out, err := exec.Command(filepath.Join(root, "hack", "release-notes.sh"), version, changelog).CombinedOutput()
			return string(out), err
		}
		Expect(notes("0.2.0")).To(Equal("### Added\n\n- two\n"))
		Expect(notes("0.1.0")).To(Equal("- one\n"))
		out, err := notes("0.3.0")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring(`no section "## [0.3.0] - YYYY-MM-DD"`))
		out, err = notes("Unreleased")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("is not dated"))
	})
})

// changelogEntries returns each bullet of the changelog, its lines joined
// and its spaces collapsed.
func changelogEntries(changelog string) []string {
	var entries []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			entries = append(entries, strings.Join(strings.Fields(cur.String()), " "))
			cur.Reset()
		}
	}
	for _, line := range strings.Split(changelog, "\n") {
		switch {
		case strings.HasPrefix(line, "- "):
			flush()
			cur.WriteString(line)
		case strings.HasPrefix(line, "  ") && cur.Len() > 0:
			cur.WriteString(" " + line)
		default:
			flush()
		}
	}
	flush()
	return entries
}
