// Package fuzzseed gives fuzz targets their seed corpora from the files
// the project already keeps (packs, test files, homes, exports).
package fuzzseed

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// MaxSeed bounds a seed: the built-in packs run to 20 KB, and the fuzzer
// minimizes every input that finds new coverage, which for inputs that
// large takes most of a short run on a small machine. The head of a file,
// cut at a line, keeps its shapes (it is still YAML, mostly) at a size that
// mutates and minimizes quickly.
const MaxSeed = 4 << 10

// Files reads every file matching the patterns (relative to the calling
// package), each cut to MaxSeed. A pattern that matches nothing fails the
// target, so a moved testdata folder does not silently empty the corpus.
func Files(tb testing.TB, patterns ...string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil || len(files) == 0 {
			tb.Fatalf("no seed files match %s", pat)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, Head(data))
		}
	}
	return out
}

// Head is data cut to at most MaxSeed bytes, at a line end when it has one.
func Head(data []byte) []byte {
	if len(data) <= MaxSeed {
		return data
	}
	if cut := bytes.LastIndexByte(data[:MaxSeed], '\n'); cut > 0 {
		return data[:cut+1]
	}
	return data[:MaxSeed]
}
