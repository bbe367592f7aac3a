// Package docs tests the repository's documentation: every relative link
// of README.md and docs/ resolves (files, and anchors by GitHub's heading
// rules), and every program rule id the code names has its heading in
// docs/rules.md.
package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository's root: this package is test/docs.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root %s has no go.mod: %v", root, err)
	}
	return root
}

// markdownDoc is what the tests read of a Markdown file: its headings and
// links outside code blocks and code spans, with their line numbers.
type markdownDoc struct {
	path     string
	headings []heading
	links    []link
	// anchors are the fragments a link to this file may name: the
	// headings' slugs and any HTML id or name attribute.
	anchors map[string]bool
}

type heading struct {
	line  int
	level int
	// text is the heading as rendered (code spans, links and emphasis
	// reduced to their text).
	text string
	slug string
}

type link struct {
	line int
	// text is the link's text as written, dest its destination.
	text, dest string
}

var (
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	fence      = regexp.MustCompile("^[ \t]*(`{3,}|~{3,})(.*)$")
	codeSpan   = regexp.MustCompile("`[^`]*`")
	// inlineLink matches [text](dest) and ![alt](dest), with an optional
	// title after the destination. Link texts holding "]" are not used in
	// this repository's Markdown.
	inlineLink = regexp.MustCompile(`!?\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// referenceDef matches a link reference definition: [label]: dest.
	referenceDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	htmlAnchor   = regexp.MustCompile(`<a\s[^>]*(?:name|id)="([^"]+)"`)
	markdownLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag      = regexp.MustCompile(`<[^>]+>`)
)

// readMarkdown reads path's headings, anchors and links.
func readMarkdown(path string) (*markdownDoc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()

	doc := &markdownDoc{path: path, anchors: map[string]bool{}}
	slugs := map[string]int{}
	var open string // the fence that opened the code block we are in, "" outside
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		next, isFence, err := fenceAfter(open, line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		open = next
		if isFence || open != "" {
			continue
		}
		doc.readLine(n, line, slugs)
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if open != "" {
		return nil, fmt.Errorf("%s: a code block opened with %s is never closed", path, open)
	}
	return doc, nil
}

// fenceAfter follows code blocks: given the fence that opened the block a
// line is in ("" outside one), it returns the fence after the line and
// whether the line is a fence itself.
func fenceAfter(open, line string) (string, bool, error) {
	m := fence.FindStringSubmatch(line)
	switch {
	case m == nil:
		return open, false, nil
	case open == "":
		return m[1], true, nil
	case m[1][0] != open[0] || len(m[1]) < len(open):
		// A shorter fence, or of the other character, inside the block.
		return open, false, nil
	case strings.TrimSpace(m[2]) == "":
		// CommonMark: a closing fence is at least as long as the opening
		// one, of the same character, with nothing after it.
		return "", true, nil
	}
	// Meant to close the block, but text follows it: the block goes on and
	// swallows what comes next, headings included.
	return open, false, fmt.Errorf("a closing fence %s with text after it does not close the code block: put the text on its own line", m[1])
}

// readLine reads a line outside code blocks: a heading (its slug made
// unique with slugs, the counts of the slugs so far), HTML anchors, links.
func (doc *markdownDoc) readLine(n int, line string, slugs map[string]int) {
	if m := atxHeading.FindStringSubmatch(line); m != nil {
		text := renderedText(m[2])
		slug := githubSlug(text)
		if seen := slugs[slug]; seen > 0 {
			slugs[slug] = seen + 1
			slug = fmt.Sprintf("%s-%d", slug, seen)
		} else {
			slugs[slug] = 1
		}
		doc.headings = append(doc.headings, heading{line: n, level: len(m[1]), text: text, slug: slug})
		doc.anchors[slug] = true
	}
	for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
		doc.anchors[m[1]] = true
	}
	if m := referenceDef.FindStringSubmatch(line); m != nil {
		doc.links = append(doc.links, link{line: n, dest: m[1]})
		return
	}
	spans := codeSpan.FindAllStringIndex(line, -1)
	for _, m := range inlineLink.FindAllStringSubmatchIndex(line, -1) {
		if inSpan(m[0], spans) {
			continue
		}
		doc.links = append(doc.links, link{line: n, text: line[m[2]:m[3]], dest: line[m[4]:m[5]]})
	}
}

// inSpan reports whether offset falls inside one of the code spans.
func inSpan(offset int, spans [][]int) bool {
	for _, s := range spans {
		if offset > s[0] && offset < s[1] {
			return true
		}
	}
	return false
}

// renderedText is a heading's text as GitHub renders it: links reduced to
// their text, HTML tags dropped, code span and emphasis markers removed.
func renderedText(s string) string {
	s = markdownLink.ReplaceAllString(s, "$1")
	s = htmlTag.ReplaceAllString(s, "")
	s = strings.NewReplacer("`", "", "**", "", "__", "").Replace(s)
	return strings.TrimSpace(s)
}

// githubSlug is the anchor GitHub gives a heading of this rendered text:
// lower case, every character but letters, marks, digits, connector
// punctuation (such as "_"), spaces and hyphens dropped, and each space
// made a hyphen. A repeated slug gets -1, -2... (readMarkdown adds it).
func githubSlug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestGitHubSlug(t *testing.T) {
	for text, want := range map[string]string{
		"Quick start (no cluster needed)":                      "quick-start-no-cluster-needed",
		"API compatibility (`v1alpha1`)":                       "api-compatibility-v1alpha1",
		"Prometheus: ServiceMonitor, alerts and dashboard":     "prometheus-servicemonitor-alerts-and-dashboard",
		"rewards.marketplace.io/v1alpha1":                      "rewardsmarketplaceiov1alpha1",
		"Backups, rebuilds from Git and upgrades":              "backups-rebuilds-from-git-and-upgrades",
		"P1. A publisher needs an MPN ID":                      "p1-a-publisher-needs-an-mpn-id",
		"Explain and simulate: the kubectl plugin":             "explain-and-simulate-the-kubectl-plugin",
		"R1–R4 revoke":                                         "r1r4-revoke",
		"max_concurrent and --flags":                           "max_concurrent-and---flags",
		"[`config/samples`](config/samples) and **bold** text": "configsamples-and-bold-text",
	} {
		if got := githubSlug(renderedText(text)); got != want {
			t.Errorf("githubSlug(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestReadMarkdownRefusesAFenceWithText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.md")
	if err := os.WriteFile(path, []byte("```text\noutput\n``` More prose\n\n## Swallowed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readMarkdown(path); err == nil || !strings.Contains(err.Error(), "x.md:3: a closing fence ``` with text after it") {
		t.Errorf("readMarkdown = %v, want the error of line 3", err)
	}
}

func TestReadMarkdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.md")
	content := "# Title\n\n## Same\n\n## Same\n\n" +
		"```sh\n# not a heading\n[not a link](nowhere.md)\n```\n\n" +
		"  ```yaml\n  key: [x](y)\n  ```\n\n" +
		"See [the title](#title), `[code](span.md)` and ![img](pic.png \"a title\").\n" +
		"<a name=\"custom\"></a>\n" +
		"[ref]: other.md#part\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := readMarkdown(path)
	if err != nil {
		t.Fatal(err)
	}
	slugs := make([]string, 0, len(doc.headings))
	for _, h := range doc.headings {
		slugs = append(slugs, h.slug)
	}
	if got, want := strings.Join(slugs, ","), "title,same,same-1"; got != want {
		t.Errorf("heading slugs %s, want %s", got, want)
	}
	if !doc.anchors["custom"] {
		t.Errorf("the HTML anchor \"custom\" was not found: %v", doc.anchors)
	}
	dests := make([]string, 0, len(doc.links))
	for _, l := range doc.links {
		dests = append(dests, fmt.Sprintf("%d:%s", l.line, l.dest))
	}
	if got, want := strings.Join(dests, ","), "16:#title,16:pic.png,18:other.md#part"; got != want {
		t.Errorf("links %s, want %s", got, want)
	}
}
