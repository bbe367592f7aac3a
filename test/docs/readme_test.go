package docs

import (
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// maxReadmeLines is what a newcomer reads in five minutes: what the
// operator is, a tour, the quick start, the tests, install in brief and
// links into docs/. Guides and reference belong in docs/.
const maxReadmeLines = 300

// TestReadmeIsShortAndLinksEveryPage keeps the README an entry point: at
// most maxReadmeLines lines, and one click from every page of docs/, so
// that whatever task a reader came for is found from it.
func TestReadmeIsShortAndLinksEveryPage(t *testing.T) {
	root := repoRoot(t)
	readmePath := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines > maxReadmeLines {
		t.Errorf("README.md has %d lines, more than %d: move the detail into a page of docs/ and link to it", lines, maxReadmeLines)
	}

	readme, err := readMarkdown(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range readme.links {
		if !isRelative(l.dest) {
			continue
		}
		if u, err := url.Parse(l.dest); err == nil && u.Path != "" {
			linked[path.Clean(u.Path)] = true
		}
	}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no page in docs/")
	}
	for _, page := range pages {
		if rel := "docs/" + filepath.Base(page); !linked[rel] {
			t.Errorf("README.md does not link to %s: a reader cannot find it from the README", rel)
		}
	}
}
